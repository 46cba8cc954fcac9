package herd.control;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Talks to a control-plane group from anywhere (a worker, the CLI, a server itself): writes go to
 * the leader, found and followed by the Ratis client; reads are linearizable (ReadIndex on the
 * leader). Every call either completes within the operation timeout or fails with
 * {@link ControlPlaneUnavailableException}. Thread-safe.
 */
public final class ControlPlaneClient implements AutoCloseable {
    /**
     * The Ratis client, used through its blocking API only: unlike its ordered-async window, that
     * API never closes the client after a failed request, so one client serves for good and a
     * request that used up its retries fails alone.
     */
    private final RaftClient raft;
    private final RaftGroup group;
    private final Duration operationTimeout;

    private ControlPlaneClient(RaftClient raft, RaftGroup group, Duration operationTimeout) {
        this.raft = raft;
        this.group = group;
        this.operationTimeout = operationTimeout;
    }

    /**
     * @param groupId      the cluster's group id
     * @param peers        name -> raft address of some or all servers; the client learns the rest
     *                     from the leader
     * @param clusterSecret the cluster's secret, or null when the cluster runs without authentication
     */
    public static ControlPlaneClient connect(UUID groupId, Map<String, String> peers, ClusterSecret clusterSecret) {
        return connect(groupId, peers, clusterSecret, Duration.ofSeconds(3), Duration.ofSeconds(15));
    }

    public static ControlPlaneClient connect(UUID groupId, Map<String, String> peers, ClusterSecret clusterSecret,
                                             Duration requestTimeout, Duration operationTimeout) {
        if (peers == null || peers.isEmpty()) {
            throw new IllegalArgumentException("no servers given: name at least one server of the cluster");
        }
        peers.forEach((name, address) -> {
            ControlPlaneConfig.requireName(name, "server name");
            HostPort.parse(address, "raft address of server " + name);
        });
        final RaftGroup group = RaftSettings.group(groupId, peers);
        return new ControlPlaneClient(RaftClient.newBuilder()
                .setClientId(ClientId.randomId())
                .setRaftGroup(group)
                .setProperties(RaftSettings.clientProperties(requestTimeout))
                .setParameters(RaftSettings.parameters(clusterSecret))
                .setRetryPolicy(RaftSettings.retryPolicy(operationTimeout))
                .build(), group, operationTimeout);
    }

    /** Appends a command to the log; completes with the application's reply once it is applied. */
    public CompletableFuture<byte[]> submit(byte[] command) {
        return answer(blocking(() -> raft.io().send(message(command))), "submit",
                "the command may or may not have been applied");
    }

    /** Reads through the leader after a ReadIndex round: sees every write completed before the call. */
    public CompletableFuture<byte[]> readLinearizable(byte[] query) {
        return answer(blocking(() -> raft.io().sendReadOnly(message(query))), "linearizable read",
                "nothing was changed");
    }

    /**
     * A client for one administrative call to a known server: no retries (a retried membership
     * change would only meet itself in flight), one attempt of up to {@code timeout}.
     */
    static ControlPlaneClient forAdministration(UUID groupId, Map<String, String> peers, ClusterSecret clusterSecret,
                                                String target, Duration timeout) {
        final RaftGroup group = RaftSettings.group(groupId, peers);
        return new ControlPlaneClient(RaftClient.newBuilder()
                .setClientId(ClientId.randomId())
                .setRaftGroup(group)
                .setLeaderId(org.apache.ratis.protocol.RaftPeerId.valueOf(target))
                .setProperties(RaftSettings.clientProperties(timeout))
                .setParameters(RaftSettings.parameters(clusterSecret))
                .setRetryPolicy(org.apache.ratis.retry.RetryPolicies.noRetry())
                .build(), group, timeout);
    }

    RaftClient raft() {
        return raft;
    }

    RaftGroup group() {
        return group;
    }

    Duration operationTimeout() {
        return operationTimeout;
    }

    /**
     * The reply of a request this server's own Raft server handled (no client, no network), in
     * the same terms as {@link #submit} and {@link #readLinearizable}.
     */
    CompletableFuture<byte[]> answerLocal(CompletableFuture<RaftClientReply> pending, String what, String consequence) {
        return answer(pending, what, consequence);
    }

    private CompletableFuture<byte[]> answer(CompletableFuture<RaftClientReply> pending, String what, String consequence) {
        return CallDeadlines.bound(pending, operationTimeout).handle((reply, error) -> {
            if (error != null) {
                throw failure(what, consequence, error);
            }
            if (!reply.isSuccess()) {
                throw failure(what, consequence, reply.getException());
            }
            return reply.getMessage().getContent().toByteArray();
        });
    }

    private ControlPlaneException failure(String what, String consequence, Throwable error) {
        final Throwable cause = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (cause instanceof StateMachineException) {
            return new ControlPlaneException(what + " failed in the application: " + cause.getMessage(), cause);
        }
        final String reason = cause instanceof TimeoutException
                ? "no leader answered within " + operationTimeout.toMillis() + " ms"
                : "the cluster did not answer: " + cause;
        return new ControlPlaneUnavailableException(what + " failed, " + reason + "; " + consequence
                + ". Check that a majority of the servers of group " + group.getGroupId() + " is running and reachable.",
                cause);
    }

    /** One virtual thread per call: cheap, and the blocking calls park instead of holding a platform thread. */
    private static final java.util.concurrent.ExecutorService CALLS = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

    private interface RaftCall {
        RaftClientReply run() throws IOException;
    }

    /**
     * Runs a call on Ratis' blocking API. Unlike its ordered-async API, each blocking call travels
     * on its own (the unordered stream): a request stuck retrying during a leader change does not
     * hold back the requests behind it, so the first write after a failover is not queued behind
     * every write that was in flight when the leader died.
     */
    private static CompletableFuture<RaftClientReply> blocking(RaftCall call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.run();
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, CALLS);
    }

    static Message message(byte[] bytes) {
        return Message.valueOf(ByteString.copyFrom(bytes));
    }

    @Override
    public void close() throws IOException {
        raft.close();
    }
}
