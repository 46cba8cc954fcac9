package herd.coordinator;

/**
 * The timings of node liveness. A node heartbeats to the leader every {@code heartbeatIntervalMillis};
 * the leader declares it lost after {@code nodeLostAfterMillis} without one. A node that has had no
 * heartbeat acknowledged for {@code leaseMillis} stops its resources by itself; without fencing, the
 * leader recovers a lost node's resources only after lease + {@code leaseMarginMillis} has passed
 * since it last acknowledged one (the margin covers clock rate differences and a stop in progress).
 */
public record CoordinatorSettings(long heartbeatIntervalMillis, long nodeLostAfterMillis, long leaseMillis,
                                  long leaseMarginMillis) {

    public static final long DEFAULT_HEARTBEAT_INTERVAL_MILLIS = 300;
    public static final long DEFAULT_NODE_LOST_AFTER_MILLIS = 1_500;
    /**
     * Longer than a leader change takes (an election timeout of up to 2 s, the vote, and the node
     * finding the new leader), so an election alone never makes nodes stop their resources.
     */
    public static final long DEFAULT_LEASE_MILLIS = 5_000;
    public static final long DEFAULT_LEASE_MARGIN_MILLIS = 500;

    public CoordinatorSettings {
        if (heartbeatIntervalMillis <= 0 || nodeLostAfterMillis < 2 * heartbeatIntervalMillis) {
            throw new IllegalArgumentException("a node is declared lost after " + nodeLostAfterMillis
                + " ms, which must be at least two heartbeat intervals (" + heartbeatIntervalMillis + " ms each)");
        }
        if (leaseMillis < nodeLostAfterMillis || leaseMarginMillis < 0) {
            throw new IllegalArgumentException("the lease (" + leaseMillis + " ms) must be at least the time after which a node"
                + " is declared lost (" + nodeLostAfterMillis + " ms), and the margin must not be negative");
        }
    }

    public static CoordinatorSettings defaults() {
        return new CoordinatorSettings(DEFAULT_HEARTBEAT_INTERVAL_MILLIS, DEFAULT_NODE_LOST_AFTER_MILLIS,
            DEFAULT_LEASE_MILLIS, DEFAULT_LEASE_MARGIN_MILLIS);
    }
}
