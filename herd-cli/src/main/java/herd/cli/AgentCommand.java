package herd.cli;

import herd.core.cluster.NameRules;
import herd.server.Daemon;
import herd.server.config.DataDir;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "agent", description = {"Run this machine's herd node from its data directory (until stopped).",
    "A server initialised with 'herd init' or added earlier just starts; with --join, a new machine waits",
    "to be added by 'herd server add NAME HOST:PORT' run against the cluster."})
final class AgentCommand implements Callable<Integer> {
    /** What {@code --nbd-socket} takes for no socket. */
    private static final String NO_NBD_SOCKET = "none";

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "The node's data directory.")
    Path data;
    @Option(names = "--join", description = "First start of a new server: wait to be added to a cluster.")
    boolean join;
    @Option(names = "--name", paramLabel = "NAME", description = "With --join: this server's name.")
    String name;
    @Option(names = "--address", paramLabel = "HOST:PORT", description = "With --join: address of the HTTP API.")
    String address;
    @Option(names = "--raft-address", paramLabel = "HOST:PORT", description = "With --join: Raft address (default: API port + 1).")
    String raftAddress;
    @Option(names = "--zone", paramLabel = "ZONE", description = "With --join: failure domain (default: the name).")
    String zone;
    @Option(names = "--secret-file", paramLabel = "FILE", description = "With --join: a copy of the cluster.secret file of an existing server.")
    Path secretFile;
    @Option(names = "--leader-hook", paramLabel = "COMMAND", description = "Command run when this server becomes leader, e.g. \"bin/herd-floating-ip leader 10.0.0.10/24 eth0\"; stored for later starts.")
    String leaderHook;
    @Option(names = "--follower-hook", paramLabel = "COMMAND", description = "Command run when this server stops being leader; stored for later starts.")
    String followerHook;
    @Option(names = "--nbd-address", paramLabel = "HOST:PORT",
        description = "Where this node serves volumes over NBD (default: 127.0.0.1:10809, loopback: NBD has no authentication); stored for later starts.")
    String nbdAddress;
    @Option(names = "--nbd-socket", paramLabel = "PATH",
        description = "A Unix socket this node also serves volumes over NBD on, for clients on this machine (mode 0660: "
            + "its owner and group may connect); 'none' for none (the default); stored for later starts.")
    String nbdSocket;

    @Override
    public Integer call() throws Exception {
        DataDir dataDir = new DataDir(data);
        checkNbdAddress(nbdAddress); // both refused before either is stored
        String socket = nbdSocket == null ? null : socketSetting(nbdSocket);
        Daemon.JoinSpec joinSpec = null;
        if (join && !dataDir.isInitialised()) {
            if (name == null || address == null || secretFile == null) {
                throw new CliException(ExitCode.USAGE, "--join needs --name, --address and --secret-file");
            }
            joinSpec = new Daemon.JoinSpec(name, address, raftAddress != null ? raftAddress : NameRules.defaultRaftAddress(address), zone,
                secretFile, nbdAddress, socket);
        }
        if (!dataDir.isInitialised() && joinSpec == null) {
            throw new CliException(ExitCode.USAGE, dataDir.root() + " holds no herd node: run 'herd init' first, or start a new server with --join");
        }
        if (nbdAddress != null && dataDir.isInitialised()) {
            storeNbdAddress(dataDir, nbdAddress); // a joining server stores it once it has been adopted
        }
        if (nbdSocket != null && dataDir.isInitialised()) {
            storeNbdSocket(dataDir, nbdSocket);
        }
        System.setProperty("herd.node", dataDir.isInitialised() ? dataDir.readConfig().name() : name);
        // gRPC logs through java.util.logging in two-line records; only its warnings matter here
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        Daemon daemon = Daemon.start(dataDir, joinSpec, words(leaderHook), words(followerHook));
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "herd-shutdown"));
        daemon.awaitStop();
        return ExitCode.OK;
    }

    /** Checks the NBD address and writes it into the node's configuration. */
    static herd.server.config.NodeConfig storeNbdAddress(DataDir dataDir, String nbdAddress) throws java.io.IOException {
        checkNbdAddress(nbdAddress);
        herd.server.config.NodeConfig config = dataDir.readConfig().withNbdAddress(nbdAddress);
        dataDir.writeConfig(config);
        return config;
    }

    /** Checks the NBD socket's path ({@code none}: no socket) and writes it into the node's configuration. */
    static herd.server.config.NodeConfig storeNbdSocket(DataDir dataDir, String nbdSocket) throws java.io.IOException {
        herd.server.config.NodeConfig config = dataDir.readConfig().withNbdSocket(socketSetting(nbdSocket));
        dataDir.writeConfig(config);
        return config;
    }

    /** The path as stored: null for {@code none}; refused with the reason when it cannot be a socket's. */
    static String socketSetting(String nbdSocket) {
        if (nbdSocket.equals(NO_NBD_SOCKET)) {
            return null;
        }
        var problem = herd.server.storage.StorageSettings.nbdSocketProblem(nbdSocket);
        if (problem.isPresent()) {
            throw new CliException(ExitCode.USAGE, problem.get() + " (or 'none' for no socket)");
        }
        return nbdSocket;
    }

    static void checkNbdAddress(String nbdAddress) {
        if (nbdAddress == null) {
            return;
        }
        var invalid = NameRules.checkAddress("NBD", nbdAddress);
        if (invalid.isPresent()) {
            throw new CliException(ExitCode.USAGE, invalid.get().message());
        }
    }

    /** Splits a hook command on spaces; quote-free by design, a hook needing more can be a script. */
    private static List<String> words(String command) {
        return command == null ? null : Arrays.stream(command.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

}
