package herd.control;

import static herd.control.KeyValueApp.get;
import static herd.control.KeyValueApp.put;
import static herd.control.KeyValueApp.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Followers' writes forwarded to the leader's {@link ControlPlaneNode#appendForwarded}, here in-process. */
class LeaderForwardingTest {
    @TempDir Path dir;

    @Test
    void forwardedWritesJoinTheLeadersOwnEntriesAndEachGetsItsReply() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            final AtomicInteger forwarded = new AtomicInteger();
            cluster.running.values().forEach(node -> node.forwardWritesThrough((leaderName, entry) -> {
                forwarded.incrementAndGet();
                return cluster.running.get(leaderName).appendForwarded(entry);
            }));
            assertThat(text(leader.submit(put("k", "first")).get(15, TimeUnit.SECONDS))).isEmpty();
            final long entriesBefore = leader.localStatus().lastLogIndex();

            final List<ControlPlaneNode> nodes = List.copyOf(cluster.running.values());
            final List<CompletableFuture<byte[]>> replies = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                replies.add(nodes.get(i % 3).submit(put("k", "v" + i)));
            }
            final List<String> previous = new ArrayList<>();
            for (CompletableFuture<byte[]> reply : replies) {
                previous.add(text(reply.get(30, TimeUnit.SECONDS)));
            }

            // Each reply is the value its write replaced: the replies chain the 301 writes into one order.
            final String last = text(leader.readLinearizable(get("k")).get(15, TimeUnit.SECONDS));
            assertThat(previous).doesNotHaveDuplicates().contains("first").doesNotContain(last);
            assertThat(forwarded.get()).as("the followers forwarded their writes").isPositive();
            assertThat(leader.localStatus().lastLogIndex() - entriesBefore)
                .as("300 writes from three servers travel in a few entries").isLessThan(50);
        }
    }

    @Test
    void aWriteNoLeaderTookIsAskedAgainSoonThroughTheForwarder() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            // A leader just elected refuses forwarded entries until it has committed one of its term:
            // after this write it takes them, so that only the three refusals below are counted.
            leader.submit(put("ready", "yes")).get(15, TimeUnit.SECONDS);
            final ControlPlaneNode follower = followerOf(cluster, leader);
            final AtomicInteger attempts = new AtomicInteger();
            // Refused three times (as by a leader not ready yet), then taken.
            follower.forwardWritesThrough((leaderName, entry) -> attempts.incrementAndGet() <= 3
                ? CompletableFuture.failedFuture(new EntryNotAppendedException(leaderName + " is not ready"))
                : cluster.running.get(leaderName).appendForwarded(entry));

            assertThat(text(follower.submit(put("k", "v")).get(15, TimeUnit.SECONDS))).isEmpty();
            assertThat(attempts.get()).as("refused three times, taken by the fourth forward").isEqualTo(4);
            assertThat(text(leader.submit(put("k", "w")).get(15, TimeUnit.SECONDS)))
                .as("the write applied once").isEqualTo("v");
        }
    }

    @Test
    void aWriteNoLeaderTakesGoesThroughTheRaftClientInTheEnd() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            final ControlPlaneNode follower = followerOf(cluster, leader);
            final AtomicInteger attempts = new AtomicInteger();
            follower.forwardWritesThrough((leaderName, entry) -> {
                attempts.incrementAndGet();
                return CompletableFuture.failedFuture(new EntryNotAppendedException(leaderName + " is not the leader"));
            });

            assertThat(text(follower.submit(put("k", "v")).get(15, TimeUnit.SECONDS))).isEmpty();
            assertThat(text(leader.readLinearizable(get("k")).get(15, TimeUnit.SECONDS))).isEqualTo("v");
            assertThat(attempts.get()).as("the forwarder was asked again before the Raft client took over").isGreaterThan(1);
        }
    }

    @Test
    void aForwardThatFailedOnTheWayIsReportedAsOfUnknownOutcome() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            final ControlPlaneNode follower = followerOf(cluster, leader);
            follower.forwardWritesThrough((leaderName, entry) ->
                CompletableFuture.failedFuture(new IOException("connection reset")));
            // The follower forwards only once it knows the leader (before, it waits for one).
            TestCluster.await(java.time.Duration.ofSeconds(10),
                () -> follower.localStatus().leaderName().equals(leader.name()), "the follower to know the leader");

            assertThatThrownBy(() -> follower.submit(put("k", "v")).get(15, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ControlPlaneUnavailableException.class)
                .hasMessageContaining("may or may not have been applied");
        }
    }

    @Test
    void aServerThatDoesNotLeadAppendsNothingAndADamagedBatchIsRefused() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            final ControlPlaneNode follower = followerOf(cluster, leader);
            leader.submit(put("ready", "yes")).get(15, TimeUnit.SECONDS); // it has committed an entry of its term
            final long entriesBefore = leader.localStatus().lastLogIndex();

            assertThatThrownBy(() -> follower.appendForwarded(put("k", "v")).get(15, TimeUnit.SECONDS))
                .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("not the leader");
            final byte[] damaged = CommandBatch.encode(List.of(put("a", "1"), put("b", "2")));
            assertThatThrownBy(() -> leader.appendForwarded(java.util.Arrays.copyOf(damaged, damaged.length - 1)))
                .isInstanceOf(IllegalArgumentException.class);
            assertThat(leader.localStatus().lastLogIndex()).isEqualTo(entriesBefore);

            final byte[] batch = leader.appendForwarded(CommandBatch.encode(List.of(put("a", "1"), put("a", "2"))))
                .get(15, TimeUnit.SECONDS);
            assertThat(CommandBatch.decodeReplies(batch, 2)).extracting(KeyValueApp::text).containsExactly("", "1");
        }
    }

    private static ControlPlaneNode followerOf(TestCluster cluster, ControlPlaneNode leader) {
        return cluster.running.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
    }
}
