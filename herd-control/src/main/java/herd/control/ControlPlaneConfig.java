package herd.control;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Everything a control-plane server needs to start. Build it with {@link #builder()}; every
 * setting except name, address, data directory and group id has a default sized for a busy
 * 2-core machine.
 *
 * @param nodeName             the server's name, which is also its Raft peer id
 * @param raftAddress          host:port the server listens on for Raft traffic and client requests
 * @param dataDirectory        where the log, the vote and the snapshots live; reused on restart
 * @param groupId              the cluster's Raft group id, created once at init
 * @param initialPeers         name -> raft address; contains this node when it bootstraps the
 *                             cluster, and only the existing servers when it joins one
 * @param electionTimeoutMin   a follower waits at least this long without hearing from a leader
 *                             before it starts a (pre-)vote; the leader heartbeats every half of it
 * @param electionTimeoutMax   the upper end of the randomised election timeout
 * @param leaderAckBound       a leader that has not heard from a majority for this long reports
 *                             that it is no longer leader and steps down; must stay below
 *                             {@code electionTimeoutMin} so it happens before anyone else can win
 * @param watchdogPeriod       how often the role and majority check runs
 * @param snapshotThresholdEntries a snapshot is written after at least this many new entries, once
 *                             their commands also add up to the last snapshot's size
 * @param logPurgeGapEntries   the log is purged up to the snapshot once this many entries can go
 * @param logPreservedEntries  entries kept behind the snapshot so a slightly late follower catches
 *                             up from the log instead of a snapshot
 * @param logSegmentSizeBytes  size of one log segment file; only closed segments can be purged
 * @param requestTimeout       one attempt of a request to one server
 * @param operationTimeout     the total time a submit, read or membership change may take,
 *                             retries included, before it fails
 * @param clusterSecret        the key material servers and clients authenticate each other with
 *                             (mutual TLS); {@code null} turns authentication off
 */
public record ControlPlaneConfig(
        String nodeName,
        String raftAddress,
        Path dataDirectory,
        UUID groupId,
        Map<String, String> initialPeers,
        Duration electionTimeoutMin,
        Duration electionTimeoutMax,
        Duration leaderAckBound,
        Duration watchdogPeriod,
        long snapshotThresholdEntries,
        int logPurgeGapEntries,
        long logPreservedEntries,
        long logSegmentSizeBytes,
        Duration requestTimeout,
        Duration operationTimeout,
        ClusterSecret clusterSecret) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    public ControlPlaneConfig {
        requireName(nodeName, "node name");
        HostPort.parse(raftAddress, "raft address of " + nodeName);
        requirePresent(dataDirectory, "data directory is missing: set it to a directory this server owns");
        requirePresent(groupId, "group id is missing: use the one printed by init");
        if (initialPeers == null || initialPeers.isEmpty()) {
            throw new IllegalArgumentException("initial peers are empty: give this node itself to bootstrap a new "
                    + "cluster, or the current servers to join one");
        }
        initialPeers.forEach((name, address) -> {
            requireName(name, "peer name");
            HostPort.parse(address, "raft address of peer " + name);
        });
        if (initialPeers.containsKey(nodeName) && !initialPeers.get(nodeName).equals(raftAddress)) {
            throw new IllegalArgumentException("initial peers give " + nodeName + " the address "
                    + initialPeers.get(nodeName) + " but its raft address is " + raftAddress + ": make them equal");
        }
        initialPeers = Collections.unmodifiableMap(new LinkedHashMap<>(initialPeers));
        requirePositive(electionTimeoutMin, "election timeout min");
        requirePositive(electionTimeoutMax, "election timeout max");
        if (electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
            throw new IllegalArgumentException("election timeout max (" + electionTimeoutMax.toMillis()
                    + " ms) must be greater than min (" + electionTimeoutMin.toMillis() + " ms)");
        }
        requirePositive(leaderAckBound, "leader acknowledgement bound");
        requirePositive(watchdogPeriod, "watchdog period");
        if (leaderAckBound.plus(watchdogPeriod).compareTo(electionTimeoutMin) >= 0) {
            throw new IllegalArgumentException("leader acknowledgement bound + watchdog period ("
                    + leaderAckBound.plus(watchdogPeriod).toMillis() + " ms) must be below election timeout min ("
                    + electionTimeoutMin.toMillis() + " ms), or a cut-off leader could still believe it leads "
                    + "when the others elect a new one");
        }
        requirePositive(snapshotThresholdEntries, "snapshot threshold (entries)");
        requirePositive(logPurgeGapEntries, "log purge gap (entries)");
        if (logPreservedEntries < 0) {
            throw new IllegalArgumentException("log preserved entries must be >= 0, got " + logPreservedEntries);
        }
        if (logSegmentSizeBytes < 64 * 1024) {
            throw new IllegalArgumentException("log segment size must be at least 64 KiB, got " + logSegmentSizeBytes);
        }
        requirePositive(requestTimeout, "request timeout");
        requirePositive(operationTimeout, "operation timeout");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** True when this node is one of the initial peers: it bootstraps the group rather than joining it. */
    public boolean bootstraps() {
        return initialPeers.containsKey(nodeName);
    }

    static void requireName(String name, String what) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name + "' is invalid: use 1-63 letters, digits, "
                    + "'.', '_' or '-', starting with a letter or digit");
        }
    }

    private static void requirePresent(Object value, String message) {
        if (value == null) {
            throw new IllegalArgumentException(message);
        }
    }

    private static void requirePositive(Duration value, String what) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(what + " must be a positive duration, got " + value);
        }
    }

    private static void requirePositive(long value, String what) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + value);
        }
    }

    /** Builds a {@link ControlPlaneConfig}; the defaults are explained on each setter. */
    public static final class Builder {
        private String nodeName;
        private String raftAddress;
        private Path dataDirectory;
        private UUID groupId;
        private final Map<String, String> initialPeers = new LinkedHashMap<>();
        // 500-750 ms. Ratis's follower sleeps a whole random timeout between two checks and starts
        // an election at the first check that finds the last contact older than the timeout it
        // just slept, so a follower notices a dead leader well after the timeout: with 1-2 s a write
        // succeeded again 2.2 s after the leader died, with 600-1200 ms 1.5 s, with 500-1000 ms 1.3 s
        // (etcd, 1 s timeout: 1.4 s), with 500-750 ms 0.95 and 1.15 s in two runs (etcd
        // 1.15 s in both); medians of bench/control-plane/run --trials 15.
        // The minimum alone decides how long a follower waits for a leader that is merely slow, so
        // it stays at 500 ms: heartbeats every 250 ms leave room for GC pauses and a loaded
        // scheduler (puts from 64 clients saturating a 2-core machine for minutes caused no
        // election). The maximum only spreads the followers' checks apart so that they seldom
        // stand at once; a quarter of a second does, and every check comes sooner.
        private Duration electionTimeoutMin = Duration.ofMillis(500);
        private Duration electionTimeoutMax = Duration.ofMillis(750);
        private Duration leaderAckBound;
        private Duration watchdogPeriod = Duration.ofMillis(50);
        private long snapshotThresholdEntries = 10_000;
        private int logPurgeGapEntries = 1024;
        private long logPreservedEntries = 1000;
        private long logSegmentSizeBytes = 8L * 1024 * 1024;
        private Duration requestTimeout = Duration.ofSeconds(3);
        private Duration operationTimeout = Duration.ofSeconds(15);
        private ClusterSecret clusterSecret;

        public Builder nodeName(String value) { nodeName = value; return this; }
        public Builder raftAddress(String value) { raftAddress = value; return this; }
        public Builder dataDirectory(Path value) { dataDirectory = value; return this; }
        public Builder groupId(UUID value) { groupId = value; return this; }
        public Builder initialPeer(String name, String address) { initialPeers.put(name, address); return this; }
        public Builder initialPeers(Map<String, String> peers) { initialPeers.putAll(peers); return this; }
        public Builder electionTimeoutMin(Duration value) { electionTimeoutMin = value; return this; }
        public Builder electionTimeoutMax(Duration value) { electionTimeoutMax = value; return this; }
        /** Default: 3/4 of the minimum election timeout, i.e. 1.5 missed heartbeats. */
        public Builder leaderAckBound(Duration value) { leaderAckBound = value; return this; }
        public Builder watchdogPeriod(Duration value) { watchdogPeriod = value; return this; }
        public Builder snapshotThresholdEntries(long value) { snapshotThresholdEntries = value; return this; }
        public Builder logPurgeGapEntries(int value) { logPurgeGapEntries = value; return this; }
        public Builder logPreservedEntries(long value) { logPreservedEntries = value; return this; }
        public Builder logSegmentSizeBytes(long value) { logSegmentSizeBytes = value; return this; }
        public Builder requestTimeout(Duration value) { requestTimeout = value; return this; }
        public Builder operationTimeout(Duration value) { operationTimeout = value; return this; }
        public Builder clusterSecret(ClusterSecret value) { clusterSecret = value; return this; }

        public ControlPlaneConfig build() {
            final Duration ackBound = leaderAckBound != null ? leaderAckBound
                    : electionTimeoutMin == null ? null : electionTimeoutMin.multipliedBy(3).dividedBy(4);
            return new ControlPlaneConfig(nodeName, raftAddress, dataDirectory, groupId, initialPeers,
                    electionTimeoutMin, electionTimeoutMax, ackBound, watchdogPeriod, snapshotThresholdEntries,
                    logPurgeGapEntries, logPreservedEntries, logSegmentSizeBytes, requestTimeout,
                    operationTimeout, clusterSecret);
        }
    }
}
