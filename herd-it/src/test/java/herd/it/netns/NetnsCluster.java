package herd.it.netns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A herd cluster of real {@code herd agent} processes, server {@code i} running inside namespace
 * {@code i} of a {@link BridgedNetwork} and listening on that namespace's address. API calls are
 * made with curl from the hub namespace, which stays connected to everyone.
 *
 * <p>The jar is copied into the work directory first, so a rebuild during the test cannot change
 * the program under test.
 */
public final class NetnsCluster implements AutoCloseable {
    public static final int API_PORT = 7400;
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** Init, or adding a server (which waits until it caught up). */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** The one short-lived CLI JVM (init): start fast, stay small. */
    static final List<String> CLI_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m");
    /** Three servers share a 2-core machine: no C2 compiler threads, one GC thread each, a bounded heap. */
    static final List<String> SERVER_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The leader and follower hook command lines of one server (words separated by spaces, as herd takes them). */
    public record Hooks(String leader, String follower) {}

    private final BridgedNetwork network;
    private final Path workDir;
    private final Path jar;
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    /** The running process of each server, by number; replaced when a server is restarted. */
    private final java.util.Map<Integer, Process> serverProcesses = new java.util.concurrent.ConcurrentHashMap<>();

    private final Thread stopOnExit = new Thread(this::killAllNow, "netns-cluster-stop");

    private NetnsCluster(BridgedNetwork network, Path workDir, Path jar) {
        this.network = network;
        this.workDir = workDir;
        this.jar = jar;
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    /**
     * Initialises s1 (with {@code initOptions}, e.g. the election timeout), starts every server with
     * its hooks and adds s2..sN one at a time. On failure the started processes are stopped.
     */
    public static NetnsCluster start(BridgedNetwork network, Path workDir, Path herdJar, List<String> initOptions,
                                     IntFunction<Hooks> hooks) throws IOException, InterruptedException {
        if (!Files.isRegularFile(herdJar)) {
            throw new IllegalStateException(herdJar + " is missing: build it first (mvn -pl herd-cli -am package)");
        }
        Path jar = Files.copy(herdJar, workDir.resolve("herd.jar"), StandardCopyOption.REPLACE_EXISTING);
        NetnsCluster cluster = new NetnsCluster(network, workDir, jar);
        long startNanos = System.nanoTime();
        try {
            cluster.init(initOptions);
            Files.writeString(cluster.authHeaderFile(), "Authorization: Bearer "
                + Files.readString(cluster.dataDir(1).resolve("admin.token")).strip() + "\n");
            cluster.progress("initialised s1", startNanos);
            for (int server = 1; server <= network.serverCount(); server++) {
                cluster.startAgent(server, hooks.apply(server));
            }
            for (int server = 1; server <= network.serverCount(); server++) {
                cluster.awaitHealthy(server);
            }
            cluster.progress("every server answers /v1/health", startNanos);
            for (int server = 2; server <= network.serverCount(); server++) {
                cluster.addServer(server);
                cluster.progress("added " + name(server), startNanos);
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.stop();
            throw e;
        }
    }

    /**
     * Why a namespace cluster cannot run here, or empty when it can: it needs network namespaces
     * with bridges and veth pairs (root, iproute2) and curl, which reaches the servers from the hub.
     */
    public static Optional<String> unavailableReason() {
        Optional<String> namespaces = Namespaces.unavailableReason();
        if (namespaces.isPresent()) {
            return namespaces;
        }
        if (!Commands.run(List.of("curl", "--version"), Duration.ofSeconds(10)).ok()) {
            return Optional.of("curl is missing: the servers are reached with curl from the hub namespace");
        }
        return Optional.empty();
    }

    /**
     * Skips the calling test when a namespace cluster cannot run here, unless
     * {@code HERD_TEST_REQUIRE_NETNS=1} (bin/test sets it when it runs as root, where namespaces must
     * work): then it fails, because the fault tests must not pass by not running.
     */
    public static void requireOrSkip(String test) {
        Optional<String> reason = unavailableReason();
        if (reason.isEmpty()) {
            return;
        }
        if ("1".equals(System.getenv("HERD_TEST_REQUIRE_NETNS"))) {
            throw new IllegalStateException("the " + test + " cannot run: " + reason.get()
                + " (HERD_TEST_REQUIRE_NETNS=1 asks for every namespaced test to run)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(false, "skipping the " + test + ": " + reason.get());
    }

    public static String name(int server) {
        return "s" + server;
    }

    public String apiAddress(int server) {
        return network.address(server) + ":" + API_PORT;
    }

    public Path dataDir(int server) {
        return workDir.resolve(name(server));
    }

    /** One answer of the HTTP API: its status code and JSON body (null when the body was not JSON). */
    public record ApiResponse(int status, JsonNode body, String text) {
        public boolean ok() {
            return status == 200;
        }
    }

    /**
     * Calls server {@code server}'s HTTP API from the hub with the admin token (curl: no JVM to
     * start); {@code jsonBody} may be null. Status 0 means no answer within {@code timeout}.
     */
    public ApiResponse api(int server, String method, String path, String jsonBody, Duration timeout) {
        List<String> curl = new ArrayList<>(List.of("curl", "-s", "-S", "--max-time", Long.toString(timeout.toSeconds()),
            "-H", "@" + authHeaderFile(), "-X", method, "-w", "\n%{http_code}"));
        if (jsonBody != null) {
            curl.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", jsonBody));
        }
        curl.add("http://" + apiAddress(server) + path);
        Commands.Result result = Commands.run(Namespaces.inside(network.hubNamespace(), curl), timeout.plusSeconds(5));
        String output = result.output().strip();
        int lastLine = output.lastIndexOf('\n');
        String text = lastLine < 0 ? "" : output.substring(0, lastLine);
        try {
            int status = result.ok() ? Integer.parseInt(output.substring(lastLine + 1)) : 0;
            return new ApiResponse(status, text.isEmpty() ? null : JSON.readTree(text), output);
        } catch (NumberFormatException | IOException e) {
            return new ApiResponse(0, null, output);
        }
    }

    /**
     * The leader's name as server {@code server} reports it in {@code GET /v1/status} (a
     * linearizable read, so it needs a working majority); empty when it cannot answer.
     */
    public Optional<String> leaderSeenBy(int server) {
        ApiResponse status = api(server, "GET", "/v1/status", null, Duration.ofSeconds(3));
        String leader = status.ok() ? status.body().path("leader").asText("") : "";
        // a server that knows no leader reports "-"
        return leader.isEmpty() || leader.equals("-") ? Optional.empty() : Optional.of(leader);
    }

    /** Adds server {@code server} through s1, as {@code herd server add} does; returns once it has caught up. */
    private void addServer(int server) {
        String body = JSON.createObjectNode().put("name", name(server)).put("address", apiAddress(server)).toString();
        ApiResponse added = api(1, "POST", "/v1/servers", body, STEP_TIMEOUT);
        if (!added.ok()) {
            throw new IllegalStateException("adding " + name(server) + " failed: " + added.text() + "\n" + diagnostics());
        }
    }

    /** The lines of every server's log that contain {@code text}, e.g. to show when hooks ran. */
    public List<String> logLines(String text) {
        List<String> found = new ArrayList<>();
        for (int server = 1; server <= network.serverCount(); server++) {
            Path log = workDir.resolve(name(server) + ".log");
            try {
                if (Files.exists(log)) {
                    Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(line -> line.contains(text))
                        .forEach(found::add);
                }
            } catch (IOException e) {
                found.add(log + ": " + e.getMessage());
            }
        }
        return found;
    }

    /** The last lines of every server's log and hook log, for failure messages. */
    public String diagnostics() {
        StringBuilder text = new StringBuilder();
        for (int server = 1; server <= network.serverCount(); server++) {
            text.append(tail(workDir.resolve(name(server) + ".log"), 15));
            text.append(tail(dataDir(server).resolve("hooks.log"), 10));
        }
        return text.toString();
    }

    private void progress(String what, long sinceNanos) {
        System.out.printf("netns cluster: %s after %d ms%n", what,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos));
    }

    private void init(List<String> initOptions) {
        List<String> command = new ArrayList<>(javaCommand(CLI_JVM_OPTIONS));
        command.addAll(List.of("init", "--name", name(1), "--address", apiAddress(1), "--data", dataDir(1).toString(),
            "--cluster-name", "netns"));
        command.addAll(initOptions);
        Commands.run(Namespaces.inside(network.serverNamespace(1), command), STEP_TIMEOUT).orThrow();
    }

    private void startAgent(int server, Hooks hooks) throws IOException {
        List<String> command = new ArrayList<>(javaCommand(SERVER_JVM_OPTIONS));
        command.addAll(List.of("agent", "--data", dataDir(server).toString(),
            "--leader-hook", hooks.leader(), "--follower-hook", hooks.follower()));
        if (server > 1) {
            command.addAll(List.of("--join", "--name", name(server), "--address", apiAddress(server),
                "--secret-file", dataDir(1).resolve("cluster.secret").toString()));
        }
        // `ip netns exec` execs the command in place, so the Process is the server JVM itself.
        Process process = new ProcessBuilder(Namespaces.inside(network.serverNamespace(server), command))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve(name(server) + ".log").toFile()))
            .start();
        processes.add(process);
        serverProcesses.put(server, process);
    }

    /** SIGKILL, like a machine losing power: no clean shutdown, no follower hook. */
    public void kill(int server) throws InterruptedException {
        Process process = serverProcesses.get(server);
        process.destroyForcibly();
        process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    /** Starts a killed or stopped server again from its data directory and waits for its API. */
    public void restart(int server, Hooks hooks) throws IOException, InterruptedException {
        startAgent(server, hooks);
        awaitHealthy(server);
    }

    private void awaitHealthy(int server) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        List<String> probe = Namespaces.inside(network.hubNamespace(), List.of("curl", "-s", "-o", "/dev/null",
            "-w", "%{http_code}", "--max-time", "2", "http://" + apiAddress(server) + "/v1/health"));
        while (System.nanoTime() < deadline) {
            if (Commands.run(probe, Duration.ofSeconds(5)).output().strip().equals("200")) {
                return;
            }
            if (!serverProcesses.get(server).isAlive()) {
                throw new IllegalStateException(name(server) + " exited during start-up:\n" + diagnostics());
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(name(server) + " did not answer /v1/health within " + START_TIMEOUT.toSeconds()
            + " s:\n" + diagnostics());
    }

    private List<String> javaCommand(List<String> jvmOptions) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString()));
        return command;
    }

    private Path authHeaderFile() {
        return workDir.resolve("auth-header");
    }

    private String tail(Path file, int lines) {
        if (!Files.exists(file)) {
            return "";
        }
        String label = "--- " + workDir.relativize(file) + ":\n";
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return label + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return label + e.getMessage() + "\n";
        }
    }

    /**
     * Stops every server (SIGTERM, then SIGKILL after {@link #STOP_TIMEOUT}) and whatever their hooks
     * left running. A server stopped by SIGTERM shuts down cleanly: a leader runs its follower hook.
     */
    public void stop() {
        // A test stopped by a timeout arrives here interrupted; stopping the servers must still wait for them.
        boolean interrupted = Thread.interrupted();
        try {
            stopAll();
        } catch (InterruptedException e) {
            interrupted = true;
            killAllNow();
        } finally {
            removeShutdownHook();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    private synchronized void stopAll() throws InterruptedException {
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
        }
        for (Process process : processes) {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        processes.clear();
    }

    private void removeShutdownHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException e) {
            // the JVM is already exiting: the hook runs (or ran) killAllNow
        }
    }

    /** For a test JVM stopped half-way (Ctrl-C, SIGTERM): servers left running would outlive it. */
    private void killAllNow() {
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
