package herd.control;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/** Turns herd's settings into Ratis properties; every key herd sets is here, with its reason. */
final class RaftSettings {
    /** Pause between two attempts of a client request, e.g. while a new leader is elected. */
    static final Duration RETRY_SLEEP = Duration.ofMillis(50);
    /** Longest pause between two attempts of a client request. */
    static final Duration RETRY_SLEEP_MAX = Duration.ofMillis(400);
    private static final long PREALLOCATED_BYTES_MAX = 4L * 1024 * 1024;

    private RaftSettings() { }

    static RaftProperties serverProperties(ControlPlaneConfig config) {
        final RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        final HostPort bind = HostPort.parse(config.raftAddress(), "raft address");
        GrpcConfigKeys.Server.setHost(p, bind.host());
        GrpcConfigKeys.Server.setPort(p, bind.port());
        RaftServerConfigKeys.setStorageDir(p, java.util.List.of(config.dataDirectory().toFile()));

        RaftServerConfigKeys.Rpc.setTimeoutMin(p, duration(config.electionTimeoutMin()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, duration(config.electionTimeoutMax()));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, duration(config.requestTimeout()));
        // Pre-vote: a server cut off from the others does not inflate the term and then depose a
        // healthy leader when it comes back. (Ratis' default is already true; stated, not assumed.)
        RaftServerConfigKeys.LeaderElection.setPreVote(p, true);

        // Linearizable reads by ReadIndex: the leader confirms with a majority heartbeat round
        // instead of trusting a clock-based lease (Ratis' default serves reads without either).
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, false);
        RaftServerConfigKeys.Read.setTimeout(p, duration(config.operationTimeout()));

        // An entry counts (leader's own match index, follower's append reply) only after fsync:
        // unsafe-flush would let it count before, async-flush would reply before syncing.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
        RaftServerConfigKeys.Log.StateMachineData.setSync(p, true);
        // No commit-index entries: with them on (Ratis' default) every commit appends a second entry
        // that each server writes and fsyncs too, doubling the log traffic of every write. Raft does
        // not need the commit index on disk: after a restart, entries past the snapshot are applied
        // once the elected leader commits an entry of its own term.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(config.logSegmentSizeBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(p,
                SizeInBytes.valueOf(Math.min(PREALLOCATED_BYTES_MAX, config.logSegmentSizeBytes())));

        // Snapshots every N entries, then the log is purged up to the snapshot (keeping a tail
        // for slightly late followers); two snapshot files are kept in case the newest is damaged.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotThresholdEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        // No extra snapshot on a clean stop: a restart then replays the log exactly as after a
        // crash (kill -9), so that path is the one always exercised.
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, false);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, config.logPurgeGapEntries());
        RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, config.logPreservedEntries());
        // Send entries to followers as soon as they are appended; Ratis' default waits 10 ms
        // between two AppendEntries to batch, which adds up to 10 ms to every write. Batching
        // still happens on its own: entries that arrive while an AppendEntries is in flight go together.
        RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
        // A follower whose log no longer has what it needs receives the leader's snapshot files.
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);

        // A server being added must show progress within this time or the change is abandoned.
        RaftServerConfigKeys.setStagingTimeout(p, duration(config.electionTimeoutMax().multipliedBy(3)));
        return p;
    }

    static RaftProperties clientProperties(Duration requestTimeout) {
        final RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, duration(requestTimeout));
        return p;
    }

    /**
     * Retries (new leader, leader not ready, connection refused) until the operation timeout is
     * spent. The pause doubles from {@link #RETRY_SLEEP} up to {@link #RETRY_SLEEP_MAX} (Ratis adds
     * +-50% jitter): a request that arrives just as a new leader is ready finds it within a short
     * pause, while the requests that have been waiting since the old leader died (often abandoned
     * by their HTTP clients) do not flood the servers with attempts while they elect a new leader.
     */
    static RetryPolicy retryPolicy(Duration operationTimeout) {
        return ExponentialBackoffRetry.newBuilder()
                .setBaseSleepTime(duration(RETRY_SLEEP))
                .setMaxSleepTime(duration(RETRY_SLEEP_MAX))
                .setMaxAttempts(attemptsWithin(operationTimeout))
                .build();
    }

    /** How many attempts of the backoff above fit in {@code operationTimeout} of pauses. */
    static int attemptsWithin(Duration operationTimeout) {
        long sleptMillis = 0;
        int attempts = 0;
        while (sleptMillis < operationTimeout.toMillis()) {
            sleptMillis += Math.min(RETRY_SLEEP_MAX.toMillis(), RETRY_SLEEP.toMillis() << Math.min(attempts, 20));
            attempts++;
        }
        return Math.max(1, attempts);
    }

    /** TLS for all three gRPC services (server-to-server, client, admin) when there is a secret. */
    static Parameters parameters(ClusterSecret secret) {
        final Parameters parameters = new Parameters();
        if (secret != null) {
            final GrpcTlsConfig tls = secret.tlsConfig();
            GrpcConfigKeys.Server.setTlsConf(parameters, tls);
            GrpcConfigKeys.Admin.setTlsConf(parameters, tls);
            GrpcConfigKeys.Client.setTlsConf(parameters, tls);
        }
        return parameters;
    }

    static RaftGroup group(UUID groupId, Map<String, String> peers) {
        return RaftGroup.valueOf(RaftGroupId.valueOf(groupId),
                peers.entrySet().stream().map(e -> peer(e.getKey(), e.getValue())).toList());
    }

    static RaftPeer peer(String name, String address) {
        return RaftPeer.newBuilder().setId(name).setAddress(address).build();
    }

    static TimeDuration duration(Duration value) {
        return TimeDuration.valueOf(value.toMillis(), TimeUnit.MILLISECONDS);
    }
}
