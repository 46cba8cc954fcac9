package herd.server.storage;

import herd.scheduler.cib.Durations;
import herd.server.config.NodeConfig;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Where a node keeps and serves volume data. Pure: the environment comes in as a map.
 *
 * <ul>
 *   <li>NBD address: node.json's {@code nbdAddress} (set with {@code --nbd-address} on
 *       {@code herd init} or {@code herd agent}); by default {@code 127.0.0.1:10809}: loopback, because
 *       NBD has no authentication and the VMs that use a volume run on the node serving it, and 10809,
 *       the port NBD clients assume. When the default port is taken (several nodes on one machine), the node
 *       logs a warning and serves no NBD; a configured address that cannot be bound stops the node.</li>
 *   <li>NBD socket: node.json's {@code nbdSocket} (set with {@code --nbd-socket PATH}): a Unix socket the
 *       node serves NBD on as well, for clients on the node itself; only its owner and group may connect
 *       (mode 0660). None by default; one that cannot be bound stops the node.</li>
 *   <li>Capacity of the object store: {@code HERD_STORAGE_CAPACITY} (like {@code 100G}); by default
 *       the file system's free space when the node starts.</li>
 *   <li>Recovery rate: {@code HERD_RECOVERY_RATE} bytes per second this node copies at most while it
 *       recovers objects after a membership change (like {@code 50M}); by default
 *       {@link #DEFAULT_RECOVERY_BYTES_PER_SECOND}.</li>
 *   <li>Scrub: {@code HERD_SCRUB_INTERVAL}, the time from the end of one pass over this node's
 *       copies to the start of the next (like {@code 7d} or {@code 12h}; {@code off} for none; by
 *       default {@link #DEFAULT_SCRUB_INTERVAL}), and {@code HERD_SCRUB_RATE}, the bytes per second a
 *       pass reads at most (by default {@link #DEFAULT_SCRUB_BYTES_PER_SECOND}); see {@link StorageScrub}.</li>
 *   <li>Object channel (other nodes' reads and writes of this node's copies): the API's host, with
 *       the port in {@code HERD_OBJECT_CHANNEL_PORT}; by default any free port, which other nodes
 *       learn by asking the node's API.</li>
 * </ul>
 */
public record StorageSettings(String nbdAddress, boolean nbdAddressConfigured, OptionalLong capacityBytes,
                              long recoveryBytesPerSecond, String channelAddress, Duration scrubInterval,
                              long scrubBytesPerSecond, String nbdSocket) {
    public static final String DEFAULT_NBD_HOST = "127.0.0.1";
    public static final int DEFAULT_NBD_PORT = 10809;
    public static final String CAPACITY_VARIABLE = "HERD_STORAGE_CAPACITY";
    public static final String RECOVERY_RATE_VARIABLE = "HERD_RECOVERY_RATE";
    public static final String CHANNEL_PORT_VARIABLE = "HERD_OBJECT_CHANNEL_PORT";
    /** Enough to restore a node's worth of data in reasonable time, while leaving a disk's bandwidth to clients. */
    public static final long DEFAULT_RECOVERY_BYTES_PER_SECOND = 200L << 20;
    public static final String SCRUB_INTERVAL_VARIABLE = "HERD_SCRUB_INTERVAL";
    public static final String SCRUB_RATE_VARIABLE = "HERD_SCRUB_RATE";
    /** Weekly, as storage systems commonly scrub: damage is found while the other copies are still there. */
    public static final Duration DEFAULT_SCRUB_INTERVAL = Duration.ofDays(7);
    /** A terabyte a node in about 15 hours, a small share of a disk's bandwidth. */
    public static final long DEFAULT_SCRUB_BYTES_PER_SECOND = 20L << 20;

    public static StorageSettings of(NodeConfig config, Map<String, String> environment) {
        String capacity = environment.get(CAPACITY_VARIABLE);
        OptionalLong capacityBytes = capacity == null || capacity.isBlank() ? OptionalLong.empty()
            : OptionalLong.of(Sizes.parse(capacity, CAPACITY_VARIABLE));
        if (capacityBytes.isPresent() && capacityBytes.getAsLong() <= 0) {
            throw new IllegalArgumentException(CAPACITY_VARIABLE + "=" + capacity + " leaves no room for data: give a size like 100G");
        }
        String rate = environment.get(RECOVERY_RATE_VARIABLE);
        long recoveryRate = rate == null || rate.isBlank() ? DEFAULT_RECOVERY_BYTES_PER_SECOND
            : Sizes.parse(rate, RECOVERY_RATE_VARIABLE);
        if (recoveryRate <= 0) {
            throw new IllegalArgumentException(RECOVERY_RATE_VARIABLE + "=" + rate + " would stop recovery: give a rate like 100M");
        }
        boolean configured = config.nbdAddress() != null && !config.nbdAddress().isBlank();
        return new StorageSettings(nbdAddress(config), configured, capacityBytes, recoveryRate,
            apiHost(config) + ":" + listenPort(CHANNEL_PORT_VARIABLE, environment.get(CHANNEL_PORT_VARIABLE)),
            scrubInterval(environment.get(SCRUB_INTERVAL_VARIABLE)), scrubRate(environment.get(SCRUB_RATE_VARIABLE)),
            config.nbdSocket());
    }

    /** Why {@code path} cannot be an NBD socket's path, if it cannot. */
    public static java.util.Optional<String> nbdSocketProblem(String path) {
        if (path.isBlank() || !path.startsWith("/")) {
            return java.util.Optional.of("the NBD socket '" + path + "' is not an absolute path: give one like"
                + " /run/herd/nbd.sock");
        }
        return herd.block.nbd.NbdServer.socketPathProblem(path).map(problem -> "the NBD socket " + path + ": " + problem);
    }

    /** {@link Duration#ZERO} for {@code off}. */
    private static Duration scrubInterval(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_SCRUB_INTERVAL;
        }
        if (value.strip().equals("off")) {
            return Duration.ZERO;
        }
        long millis;
        try {
            millis = Durations.parseMillis(value);
        } catch (IllegalArgumentException e) {
            millis = 0;
        }
        if (millis <= 0) {
            throw new IllegalArgumentException(SCRUB_INTERVAL_VARIABLE + "=" + value + " is not a time between scrub "
                + "passes: give one like 7d or 12h, or off for no scrub");
        }
        return Duration.ofMillis(millis);
    }

    private static long scrubRate(String value) {
        long rate = value == null || value.isBlank() ? DEFAULT_SCRUB_BYTES_PER_SECOND : Sizes.parse(value, SCRUB_RATE_VARIABLE);
        if (rate <= 0) {
            throw new IllegalArgumentException(SCRUB_RATE_VARIABLE + "=" + value + " would stop the scrub: give a rate "
                + "like 20M, or set " + SCRUB_INTERVAL_VARIABLE + "=off");
        }
        return rate;
    }

    /**
     * The port an environment variable names for a node-to-node listener; 0 (any free port, which the
     * node names when asked) when it is unset.
     */
    public static int listenPort(String variable, String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            int port = Integer.parseInt(value.strip());
            if (port >= 0 && port <= 65_535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(variable + "=" + value + " is not a port: give a number from 1 to"
            + " 65535, or leave it unset for any free port");
    }

    /** The host of the node's API address, where its node-to-node listeners bind too. */
    public static String apiHost(NodeConfig config) {
        String api = config.apiAddress();
        return api.substring(0, api.lastIndexOf(':'));
    }

    static String nbdAddress(NodeConfig config) {
        if (config.nbdAddress() != null && !config.nbdAddress().isBlank()) {
            return config.nbdAddress();
        }
        return DEFAULT_NBD_HOST + ":" + DEFAULT_NBD_PORT;
    }
}
