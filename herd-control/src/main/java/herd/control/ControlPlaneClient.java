package herd.control;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
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
     * The Ratis client. Its ordered-async window closes for good after a request exhausts its
     * retries (e.g. while no leader can be found), so a closed client is replaced by a new one.
     */
    private final java.util.concurrent.atomic.AtomicReference<RaftClient> raft;
    private final java.util.function.Supplier<RaftClient> newRaftClient;
    private final RaftGroup group;
    private final Duration operationTimeout;

    private ControlPlaneClient(java.util.function.Supplier<RaftClient> newRaftClient, RaftGroup group,
                               Duration operationTimeout) {
        this.newRaftClient = newRaftClient;
        this.raft = new java.util.concurrent.atomic.AtomicReference<>(newRaftClient.get());
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
        return new ControlPlaneClient(() -> RaftClient.newBuilder()
                .setClientId(ClientId.randomId())
                .setRaftGroup(group)
                .setProperties(RaftSettings.clientProperties(requestTimeout))
                .setParameters(RaftSettings.parameters(clusterSecret))
                .setRetryPolicy(RaftSettings.retryPolicy(operationTimeout))
                .build(), group, operationTimeout);
    }

    /** Appends a command to the log; completes with the application's reply once it is applied. */
    public CompletableFuture<byte[]> submit(byte[] command) {
        final RaftClient client = raft.get();
        return answer(client, blocking(() -> client.io().send(message(command))), "submit",
                "the command may or may not have been applied");
    }

    /** Reads through the leader after a ReadIndex round: sees every write completed before the call. */
    public CompletableFuture<byte[]> readLinearizable(byte[] query) {
        final RaftClient client = raft.get();
        return answer(client, blocking(() -> client.io().sendReadOnly(message(query))), "linearizable read",
                "nothing was changed");
    }

    /**
     * A client for one administrative call to a known server: no retries (a retried membership
     * change would only meet itself in flight), one attempt of up to {@code timeout}.
     */
    static ControlPlaneClient forAdministration(UUID groupId, Map<String, String> peers, ClusterSecret clusterSecret,
                                                String target, Duration timeout) {
        final RaftGroup group = RaftSettings.group(groupId, peers);
        return new ControlPlaneClient(() -> RaftClient.newBuilder()
                .setClientId(ClientId.randomId())
                .setRaftGroup(group)
                .setLeaderId(org.apache.ratis.protocol.RaftPeerId.valueOf(target))
                .setProperties(RaftSettings.clientProperties(timeout))
                .setParameters(RaftSettings.parameters(clusterSecret))
                .setRetryPolicy(org.apache.ratis.retry.RetryPolicies.noRetry())
                .build(), group, timeout);
    }

    RaftClient raft() {
        return raft.get();
    }

    RaftGroup group() {
        return group;
    }

    Duration operationTimeout() {
        return operationTimeout;
    }

    private CompletableFuture<byte[]> answer(RaftClient client, CompletableFuture<RaftClientReply> pending, String what,
                                             String consequence) {
        return pending.orTimeout(operationTimeout.toMillis(), TimeUnit.MILLISECONDS).handle((reply, error) -> {
            if (error != null) {
                replaceIfClosed(client, error);
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

    /** After a failure, a client whose request window closed is swapped for a new one (once). */
    private void replaceIfClosed(RaftClient failed, Throwable error) {
        final Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof org.apache.ratis.protocol.exceptions.AlreadyClosedException)
                && !(cause instanceof org.apache.ratis.protocol.exceptions.RaftRetryFailureException)) {
            return;
        }
        final RaftClient fresh = newRaftClient.get();
        if (raft.compareAndSet(failed, fresh)) {
            closeQuietly(failed);
        } else {
            closeQuietly(fresh);
        }
    }

    private static void closeQuietly(RaftClient client) {
        try {
            client.close();
        } catch (IOException e) {
            // it was failing anyway
        }
    }

    static Message message(byte[] bytes) {
        return Message.valueOf(ByteString.copyFrom(bytes));
    }

    @Override
    public void close() throws IOException {
        raft.get().close();
    }
}
