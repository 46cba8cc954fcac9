package herd.control;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** Real Ratis servers on 127.0.0.1 with ephemeral ports, data under one temporary directory. */
final class TestCluster implements AutoCloseable {
    /** The production defaults: tests see the same timing as a real cluster on a loaded machine. */
    static final Duration ELECTION_MIN = Duration.ofMillis(1000);
    static final Duration ELECTION_MAX = Duration.ofMillis(2000);

    record RoleEvent(String node, boolean leader, long term, long nanos) { }

    final UUID groupId = UUID.randomUUID();
    final Path root;
    final Map<String, String> addresses = new LinkedHashMap<>();
    final Map<String, ControlPlaneNode> running = new LinkedHashMap<>();
    final Map<String, KeyValueApp> apps = new LinkedHashMap<>();
    final List<RoleEvent> roleEvents = new CopyOnWriteArrayList<>();
    private final Map<String, ControlPlaneConfig> configs = new LinkedHashMap<>();
    private final UnaryOperator<ControlPlaneConfig.Builder> tuning;

    TestCluster(Path root, UnaryOperator<ControlPlaneConfig.Builder> tuning) {
        this.root = root;
        this.tuning = tuning;
    }

    TestCluster(Path root) {
        this(root, b -> b);
    }

    /**
     * Ports for servers that bind them later, taken below Linux's ephemeral range (32768 and up): a
     * port found free there can be taken by an outgoing connection before its server binds it, and
     * Ratis ends the JVM when it cannot bind. Each test JVM starts at a random place, and a port is
     * handed out once.
     */
    private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
        new java.util.concurrent.atomic.AtomicInteger(20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(10_000));

    static String freeAddress() throws IOException {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = NEXT_PORT.getAndIncrement();
            if (port >= 32_768) {
                NEXT_PORT.set(20_000);
                continue;
            }
            try (ServerSocket socket = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return "127.0.0.1:" + socket.getLocalPort();
            } catch (IOException taken) {
                // try the next one
            }
        }
        throw new IOException("no free port found between 20000 and 32767");
    }

    /** Starts {@code names} as the initial servers of a new group (each lists all of them). */
    TestCluster bootstrap(String... names) throws IOException {
        final Map<String, String> peers = new LinkedHashMap<>();
        for (String name : names) {
            addresses.put(name, freeAddress());
            peers.put(name, addresses.get(name));
        }
        for (String name : names) {
            start(name, peers);
        }
        return this;
    }

    /** Starts a new server that joins: it knows the current servers but is not one of them yet. */
    ControlPlaneNode startJoining(String name) throws IOException {
        addresses.put(name, freeAddress());
        final Map<String, String> current = new LinkedHashMap<>();
        running.forEach((n, node) -> current.put(n, addresses.get(n)));
        return start(name, current);
    }

    ControlPlaneConfig.Builder configFor(String name, Map<String, String> peers) {
        return tuning.apply(ControlPlaneConfig.builder()
                .nodeName(name).raftAddress(addresses.get(name)).dataDirectory(root.resolve(name))
                .groupId(groupId).initialPeers(peers)
                .electionTimeoutMin(ELECTION_MIN).electionTimeoutMax(ELECTION_MAX)
                .requestTimeout(Duration.ofSeconds(2)).operationTimeout(Duration.ofSeconds(15)));
    }

    ControlPlaneNode start(String name, Map<String, String> peers) throws IOException {
        return start(configFor(name, peers).build());
    }

    ControlPlaneNode start(ControlPlaneConfig config) throws IOException {
        final KeyValueApp app = new KeyValueApp();
        final String name = config.nodeName();
        final ControlPlaneNode node = ControlPlaneNode.start(config, app,
                (leader, term) -> roleEvents.add(new RoleEvent(name, leader, term, System.nanoTime())));
        configs.put(name, config);
        running.put(name, node);
        apps.put(name, app);
        return node;
    }

    /** Restarts a stopped server from its own data directory with its original configuration. */
    ControlPlaneNode restart(String name) throws IOException {
        return start(configs.get(name));
    }

    void stop(String name) throws IOException {
        running.remove(name).close();
    }

    ControlPlaneNode node(String name) {
        return running.get(name);
    }

    /** Where Ratis keeps server {@code name}'s log ({@code current/}) and snapshots ({@code sm/}). */
    Path groupStorage(String name) {
        return root.resolve(name).resolve(groupId.toString());
    }

    Optional<ControlPlaneNode> leader() {
        return running.values().stream()
                .filter(n -> n.localStatus().role() == ServerStatus.Role.LEADER)
                .findFirst();
    }

    ControlPlaneNode awaitLeader() {
        await(Duration.ofSeconds(20), () -> leader().isPresent(), "a leader among " + running.keySet());
        return leader().orElseThrow();
    }

    static void await(Duration timeout, BooleanSupplier condition, String what) {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() {
        for (String name : new ArrayList<>(running.keySet())) {
            try {
                stop(name);
            } catch (IOException | RuntimeException e) {
                // keep closing the others
            }
        }
    }
}
