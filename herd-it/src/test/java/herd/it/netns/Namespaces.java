package herd.it.netns;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Linux network namespaces created by one test, each with a random suffix so runs never collide,
 * and all deleted by {@link #close()} (also registered as a shutdown hook, for a test JVM stopped
 * half-way). Every call needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2.
 */
public final class Namespaces implements AutoCloseable {
    static final Duration IP_TIMEOUT = Duration.ofSeconds(10);

    private final String suffix = randomSuffix();
    private final List<String> created = new ArrayList<>();
    private final Thread cleanupOnExit = new Thread(this::deleteAll, "netns-cleanup");

    public Namespaces() {
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    }

    /**
     * Why namespace tests cannot run here, or empty when they can. Tries what the tests do: a
     * namespace holding a bridge and a veth pair, deleted at once.
     */
    public static Optional<String> unavailableReason() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return Optional.of("network namespaces need Linux, this is " + System.getProperty("os.name"));
        }
        String probe = "herd-probe-" + randomSuffix();
        Commands.Result add = Commands.run(List.of("ip", "netns", "add", probe), IP_TIMEOUT);
        if (!add.ok()) {
            return Optional.of("cannot create a network namespace (run as root with iproute2 installed): "
                + add.output().strip());
        }
        try {
            for (List<String> step : List.of(
                    List.of("ip", "-n", probe, "link", "add", "br0", "type", "bridge"),
                    List.of("ip", "-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1"))) {
                Commands.Result result = Commands.run(step, IP_TIMEOUT);
                if (!result.ok()) {
                    return Optional.of("'" + String.join(" ", step) + "' failed (kernel without bridge or veth "
                        + "support?): " + result.output().strip());
                }
            }
            return Optional.empty();
        } finally {
            Commands.run(List.of("ip", "netns", "delete", probe), IP_TIMEOUT);
        }
    }

    /** Creates the namespace {@code herd-<role>-<suffix>} with its loopback up, and returns its name. */
    public synchronized String create(String role) {
        String name = "herd-" + role + "-" + suffix;
        Commands.run(List.of("ip", "netns", "add", name), IP_TIMEOUT).orThrow();
        created.add(name);
        ip(name, "link", "set", "lo", "up");
        return name;
    }

    /** Runs {@code ip -n NAMESPACE ARGS...}, failing with its message when it fails. */
    public String ip(String namespace, String... args) {
        List<String> command = Stream.concat(Stream.of("ip", "-n", namespace), Stream.of(args)).toList();
        return Commands.run(command, IP_TIMEOUT).orThrow().output();
    }

    /** The command line that runs {@code command} inside the namespace. */
    public static List<String> inside(String namespace, List<String> command) {
        return Stream.concat(Stream.of("ip", "netns", "exec", namespace), command.stream()).toList();
    }

    /**
     * Deletes every namespace this instance created. Stop the processes inside first: a namespace
     * whose name is deleted lives on, unnamed, for as long as a process runs in it.
     */
    @Override
    public void close() {
        // A test stopped by a timeout arrives here interrupted; the namespaces must still go.
        boolean interrupted = Thread.interrupted();
        deleteAll();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException e) {
            // the JVM is already exiting: the hook runs (or ran) deleteAll, which is idempotent
        }
    }

    private synchronized void deleteAll() {
        for (String name : created) {
            Commands.Result result = Commands.run(List.of("ip", "netns", "delete", name), IP_TIMEOUT);
            if (!result.ok()) {
                System.err.println("could not delete network namespace " + name + ": " + result.output().strip()
                    + " (delete it with: ip netns delete " + name + ")");
            }
        }
        created.clear();
    }

    private static String randomSuffix() {
        byte[] bytes = new byte[3];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
