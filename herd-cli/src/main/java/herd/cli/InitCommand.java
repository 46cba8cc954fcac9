package herd.cli;

import herd.server.Init;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "init", description = {"Create a new cluster with this machine as its first server.",
    "Writes the node's configuration, the admin token and the cluster secret into DIR (mode 0600);",
    "then start the server with 'herd agent --data DIR' and add more with 'herd server add'."})
final class InitCommand implements Callable<Integer> {
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "This server's name, e.g. s1.")
    String name;
    @Option(names = "--address", required = true, paramLabel = "HOST:PORT", description = "Address of the HTTP API (listens there only).")
    String address;
    @Option(names = "--raft-address", paramLabel = "HOST:PORT", description = "Address for Raft traffic (default: API port + 1).")
    String raftAddress;
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "An empty or new data directory.")
    Path data;
    @Option(names = "--cluster-name", paramLabel = "NAME", defaultValue = "herd", description = "The cluster's name (default: ${DEFAULT-VALUE}).")
    String clusterName;
    @Option(names = "--zone", paramLabel = "ZONE", description = "Failure domain (rack, room); default: the server's name.")
    String zone;
    @Option(names = "--election-timeout", paramLabel = "MIN-MAX", description = "Election timeout range in ms, e.g. 500-750 (the default).")
    String electionTimeout;
    @Option(names = "--snapshot-every", paramLabel = "ENTRIES", defaultValue = "0",
        description = "Take a Raft snapshot (and purge the log) after at least ENTRIES entries (default: the control plane's, 10000), "
            + "once the log since the last snapshot is also as large as that snapshot.")
    long snapshotEvery;
    @Option(names = "--nbd-address", paramLabel = "HOST:PORT",
        description = "Where this node serves volumes over NBD (default: 127.0.0.1:10809, loopback: NBD has no authentication).")
    String nbdAddress;
    @Option(names = "--nbd-socket", paramLabel = "PATH",
        description = "A Unix socket this node also serves volumes over NBD on, for clients on this machine (mode 0660: "
            + "its owner and group may connect); none by default.")
    String nbdSocket;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        long[] timeouts = ElectionTimeouts.parse(electionTimeout);
        String raft = raftAddress != null ? raftAddress : herd.core.cluster.NameRules.defaultRaftAddress(address);
        DataDir dataDir = new DataDir(data);
        AgentCommand.checkNbdAddress(nbdAddress); // refused before anything is written
        if (nbdSocket != null) {
            AgentCommand.socketSetting(nbdSocket);
        }
        NodeConfig config = Init.run(dataDir, new Init.Request(clusterName, name, address, raft, zone, timeouts[0], timeouts[1],
            snapshotEvery));
        if (nbdAddress != null) {
            config = AgentCommand.storeNbdAddress(dataDir, nbdAddress);
        }
        if (nbdSocket != null) {
            config = AgentCommand.storeNbdSocket(dataDir, nbdSocket);
        }
        var out = spec.commandLine().getOut();
        out.println("Created cluster '" + config.clusterName() + "' with server " + config.name() + " in " + dataDir.root());
        out.println("  admin token:    " + dataDir.adminTokenFile() + "  (give it to the CLI with --data or --token-file)");
        out.println("  cluster secret: " + dataDir.clusterSecretFile() + "  (copy it to machines you add; keep it 0600)");
        out.println("Start the server:  herd agent --data " + dataDir.root());
        out.flush();
        return ExitCode.OK;
    }
}
