package herd.server;

import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.server.api.ApiException;
import herd.server.state.AppliedSignal;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * What the API needs from the cluster: the port between the HTTP edge and the control plane. Calls
 * block (most API handlers run on virtual threads; key-value reads and writes use the calls that
 * return futures) and fail with an {@link ApiException} that already says what the caller should
 * do (e.g. 503 no_leader).
 */
public interface ClusterAccess {

    /** Submits a command through the Raft leader and returns its outcome once committed and applied. */
    Outcome submit(Command command) throws ApiException;

    /**
     * {@link #submit} without blocking, for the API's event loop: the future fails with the same
     * {@link ApiException}s (wrapped in a {@link java.util.concurrent.CompletionException} where
     * dependent stages see them). The outcome is decoded on {@code answerOn}: the thread that
     * completes the call is often a Ratis thread answering a whole batch of commands, and it should
     * do no more for each than hand it over.
     */
    CompletableFuture<Outcome> submitAsync(Command command, Executor answerOn);

    /**
     * Appends a write entry that another server forwarded to this one as the Raft leader (see
     * {@link herd.control.LeaderForwarder}) and returns the reply that server expects. Answers 421
     * when this node is not the ready leader: nothing was appended.
     */
    default byte[] appendForwarded(byte[] entry) throws ApiException {
        throw new ApiException(421, herd.core.ErrorCode.NO_LEADER, "this node is not a server: forward writes to the leader");
    }

    /** Answers a query: linearizable (ReadIndex through the leader) or from this node's local state. */
    QueryResult query(Query query, boolean linearizable) throws ApiException;

    /** {@link #query} without blocking, as {@link #submitAsync}. */
    CompletableFuture<QueryResult> queryAsync(Query query, boolean linearizable, Executor answerOn);

    /** Signals every apply on this node; watch streams wait on it. */
    AppliedSignal appliedSignal();

    /** This node's view of itself: name, role, Raft term and indexes. */
    SelfStatus self() throws ApiException;

    /** Every server's row, as this node sees or can fetch it. */
    List<ServerRow> servers() throws ApiException;

    void addServer(String name, String apiAddress, String raftAddress) throws ApiException;

    void removeServer(String name) throws ApiException;

    void transferLeadership(String name) throws ApiException;

    /**
     * Records a worker that is joining and returns what it needs to reach the cluster: cluster name,
     * group id, servers (name to Raft address), server API addresses and the admin token.
     */
    com.fasterxml.jackson.databind.node.ObjectNode registerWorker(String name, String apiAddress, String zone) throws ApiException;

    /** Writes a consistent image of the cluster state, as of a linearizable point. */
    void backup(OutputStream out) throws ApiException;

    /**
     * One server as {@code herd server list} shows it (like {@code onezone show}).
     *
     * @param state leader, follower, candidate, or unreachable
     * @param vote the server this one voted for in its current term ("-" if none)
     */
    record ServerRow(int id, String name, String endpoint, String state, long term, long index, long commit, String vote) {}

    /**
     * A node's own status.
     *
     * @param role server or worker
     * @param raftState for a server: leader, follower or candidate; for a worker: "-"
     */
    record SelfStatus(String name, String role, String clusterName, String raftState, String leader, long term,
                      long lastLogIndex, long commitIndex, long appliedIndex, String votedFor) {}
}
