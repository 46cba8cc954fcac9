package herd.it;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Real herd servers for tests: each one a {@code java -jar herd.jar agent} process on 127.0.0.1
 * with its own data directory, started, killed with SIGKILL and restarted like on a real machine.
 */
final class HerdCluster implements AutoCloseable {
    static final Path JAR = Path.of("..", "herd-cli", "target", "herd.jar").toAbsolutePath().normalize();
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path root;
    private final Map<String, Server> servers = new LinkedHashMap<>();
    private final List<String> initOptions;
    /** Environment variables added to every server process (e.g. a storage capacity). */
    private final Map<String, String> serverEnvironment;

    /** One server: name, API address (its Raft port is one above), data directory, running process. */
    static final class Server {
        final String name;
        final String apiAddress;
        final Path data;
        /** The NBD port of a server added to the cluster (s1's is whatever its test gave init); 0 when none. */
        int nbdPort;
        Process process;

        Server(String name, String apiAddress, Path data) {
            this.name = name;
            this.apiAddress = apiAddress;
            this.data = data;
        }

        boolean running() {
            return process != null && process.isAlive();
        }
    }

    private HerdCluster(Path root, List<String> initOptions, Map<String, String> serverEnvironment) {
        this.root = root;
        this.initOptions = initOptions;
        this.serverEnvironment = serverEnvironment;
    }

    /** Initialises s1 and adds s2..sN, each started and caught up. */
    static HerdCluster start(Path root, int size, String... initOptions) throws Exception {
        return start(root, size, Map.of(), initOptions);
    }

    /** As {@link #start(Path, int, String...)}, every server process with these environment variables added. */
    static HerdCluster start(Path root, int size, Map<String, String> serverEnvironment, String... initOptions) throws Exception {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: build herd-cli first (mvn package)");
        }
        HerdCluster cluster = new HerdCluster(root, List.of(initOptions), Map.copyOf(serverEnvironment));
        try {
            cluster.init();
            for (int i = 2; i <= size; i++) {
                cluster.addServer("s" + i);
            }
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void init() throws Exception {
        Server s1 = newServer("s1");
        List<String> args = new ArrayList<>(List.of("init", "--name", "s1", "--address", s1.apiAddress,
            "--data", s1.data.toString(), "--cluster-name", "it"));
        args.addAll(initOptions);
        CliResult init = cli(args.toArray(String[]::new));
        if (init.exitCode() != 0) {
            throw new IllegalStateException("herd init failed: " + init);
        }
        start(s1.name);
        awaitHealthy(s1);
        client().awaitLeader(START_TIMEOUT);
    }

    /**
     * Starts a new server with --join and adds it through the API; returns the add command's result.
     * It serves NBD on a port of its own, so that no test binds the well-known port and every node's
     * NBD server can be reached.
     */
    CliResult addServer(String name) throws Exception {
        Server server = newServer(name);
        server.nbdPort = freePortPair();
        server.process = launch(server, List.of("agent", "--data", server.data.toString(), "--join", "--name", name,
            "--address", server.apiAddress, "--secret-file", servers.get("s1").data.resolve("cluster.secret").toString(),
            "--nbd-address", "127.0.0.1:" + server.nbdPort));
        awaitHealthy(server);
        CliResult add = cliAgainstCluster("server", "add", name, server.apiAddress);
        if (add.exitCode() != 0) {
            throw new IllegalStateException("herd server add " + name + " failed: " + add);
        }
        return add;
    }

    /**
     * Joins a worker (no vote, no replica) through the servers and starts it, serving NBD on a port
     * of its own (kept in its node.json for restarts).
     */
    Server joinWorker(String name) throws Exception {
        Server worker = newServer(name);
        CliResult join = cli("join", "--name", name, "--address", worker.apiAddress, "--data", worker.data.toString(),
            "--server", String.join(",", endpoints()), "--secret-file", servers.get("s1").data.resolve("cluster.secret").toString());
        if (join.exitCode() != 0) {
            throw new IllegalStateException("herd join failed: " + join);
        }
        worker.nbdPort = freePortPair();
        worker.process = launch(worker, List.of("agent", "--data", worker.data.toString(),
            "--nbd-address", "127.0.0.1:" + worker.nbdPort));
        awaitHealthy(worker);
        return worker;
    }

    private Server newServer(String name) throws IOException {
        Server server = new Server(name, "127.0.0.1:" + freePortPair(), root.resolve(name));
        servers.put(name, server);
        return server;
    }

    void start(String name) throws IOException {
        Server server = servers.get(name);
        server.process = launch(server, List.of("agent", "--data", server.data.toString()));
    }

    /** Starts a stopped or killed server again from its data directory and waits for its API. */
    void restart(String name) throws Exception {
        start(name);
        awaitHealthy(servers.get(name));
    }

    /** SIGKILL: the process gets no chance to flush or say goodbye. */
    void kill(String name) throws InterruptedException {
        Server server = servers.get(name);
        server.process.destroyForcibly();
        server.process.waitFor(10, TimeUnit.SECONDS);
    }

    void killAll() throws InterruptedException {
        for (Server server : servers.values()) {
            if (server.running()) {
                server.process.destroyForcibly();
            }
        }
        for (Server server : servers.values()) {
            if (server.process != null) {
                server.process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    Server server(String name) {
        return servers.get(name);
    }

    List<String> names() {
        return List.copyOf(servers.keySet());
    }

    Path adminTokenFile() {
        return servers.get("s1").data.resolve("admin.token");
    }

    String adminToken() throws IOException {
        return Files.readString(adminTokenFile(), StandardCharsets.UTF_8).trim();
    }

    /** API addresses of the running servers. */
    List<String> endpoints() {
        return servers.values().stream().filter(Server::running).map(s -> s.apiAddress).toList();
    }

    /** A client that tries every running server in turn. */
    HttpKv client() throws IOException {
        return new HttpKv(endpoints(), adminToken());
    }

    /** A client of one server only. */
    HttpKv clientOf(String name) throws IOException {
        return new HttpKv(List.of(servers.get(name).apiAddress), adminToken());
    }

    /** The leader's name, once the servers know one (a server without one reports "-"). */
    String leader() throws Exception {
        return client().awaitLeader(START_TIMEOUT);
    }

    CliResult cliAgainstCluster(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--endpoint", String.join(",", endpoints()), "--token-file", adminTokenFile().toString()));
        return cli(all.toArray(String[]::new));
    }

    /** Runs the herd command against one server's API only. */
    CliResult cliAgainst(String server, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--endpoint", servers.get(server).apiAddress, "--token-file", adminTokenFile().toString()));
        return cli(all.toArray(String[]::new));
    }

    /** Runs the herd command in its own JVM, as an operator would. */
    static CliResult cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        var stdout = process.getInputStream();
        var stderr = process.getErrorStream();
        byte[] out = stdout.readAllBytes();
        byte[] err = stderr.readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("herd " + args[0] + " did not finish");
        }
        return new CliResult(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    record CliResult(int exitCode, String stdout, String stderr) {}

    private Process launch(Server server, List<String> args) throws IOException {
        Files.createDirectories(root);
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-jar", JAR.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(server.name + ".log").toFile()));
        builder.environment().putAll(serverEnvironment);
        return builder.start();
    }

    private void awaitHealthy(Server server) throws Exception {
        HttpKv probe = new HttpKv(List.of(server.apiAddress), null);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.running()) {
                throw new IllegalStateException(server.name + " exited during start-up; its log:\n" + log(server.name));
            }
            if (probe.healthy()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(server.name + " did not answer within " + START_TIMEOUT + "; its log:\n" + log(server.name));
    }

    /** The lines of a server's whole log that contain {@code text}, for a failure's message. */
    /** The data files in server {@code name}'s object store, each named by its object's id (16 hex digits). */
    List<Path> objectFiles(String name) throws IOException {
        Path objects = server(name).data.resolve("objects").resolve("objects");
        if (!Files.isDirectory(objects)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(objects)) {
            return files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().matches("[0-9a-f]{16}"))
                .toList();
        }
    }

    /** The data file of object {@code hex} in server {@code name}'s object store. */
    Path objectFile(String name, String hex) throws IOException {
        return objectFiles(name).stream().filter(f -> f.getFileName().toString().equals(hex)).findFirst()
            .orElseThrow(() -> new AssertionError("server " + name + " holds no object " + hex));
    }

    /** Inverts one byte of a file on disk and syncs it: damage the object store's checksums must catch. */
    static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile data = new RandomAccessFile(file.toFile(), "rw")) {
            data.seek(offset);
            int value = data.read();
            data.seek(offset);
            data.write(value ^ 0xff);
            data.getFD().sync();
        }
    }

    List<String> logLinesWith(String name, String text) {
        try (Stream<String> lines = Files.lines(root.resolve(name + ".log"))) {
            return lines.filter(line -> line.contains(text)).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of("(no log: " + e + ")");
        }
    }

    String log(String name) {
        try {
            String text = Files.readString(root.resolve(name + ".log"));
            return text.length() > 6000 ? text.substring(text.length() - 6000) : text;
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Ports for servers that bind them later (and again after a restart), taken below Linux's
     * ephemeral range (32768 and up), where no outgoing connection or port-0 listener can take them
     * meanwhile. Each test JVM starts at a random place, and a pair is handed out once.
     */
    private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
        new java.util.concurrent.atomic.AtomicInteger(20_000 + 2 * java.util.concurrent.ThreadLocalRandom.current().nextInt(5_000));

    /** A port p with p+1 also free (API and Raft). */
    static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = NEXT_PORT.getAndAdd(2);
            if (port + 1 >= 32_768) {
                NEXT_PORT.set(20_000);
                continue;
            }
            if (isFree(port) && isFree(port + 1)) {
                return port;
            }
        }
        throw new IOException("no two adjacent free ports found between 20000 and 32767");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Server server : servers.values()) {
            if (server.running()) {
                server.process.destroy();
            }
        }
        for (Server server : servers.values()) {
            if (server.process != null && !server.process.waitFor(10, TimeUnit.SECONDS)) {
                server.process.destroyForcibly();
            }
        }
    }
}
