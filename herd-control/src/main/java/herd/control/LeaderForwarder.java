package herd.control;

import java.util.concurrent.CompletableFuture;

/**
 * Carries a follower's write entry (one command or a batch of them) to the leader's
 * {@link ControlPlaneNode#appendForwarded} over the application's own transport. The leader then
 * puts the commands of every follower in the same log entry as its own (group commit across the
 * cluster); through the Raft client each follower's batch would be a log entry of its own, and
 * each entry costs a replication round on every server.
 */
@FunctionalInterface
public interface LeaderForwarder {
    /**
     * Completes with the leader's reply to the entry, as {@link ControlPlaneNode#appendForwarded}
     * gave it. Fails with {@link EntryNotAppendedException} when the leader certainly appended
     * nothing (it no longer leads, its address is unknown, the request never left); any other
     * failure leaves the outcome unknown.
     */
    CompletableFuture<byte[]> forward(String leaderName, byte[] entry);
}
