package herd.control;

import static herd.control.KeyValueApp.get;
import static herd.control.KeyValueApp.put;
import static herd.control.KeyValueApp.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationAndFailoverTest {
    @TempDir Path dir;

    @Test
    void threeServersElectReplicateAndKeepWritingAfterTheLeaderStops() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            cluster.awaitLeader();
            for (int i = 0; i < 20; i++) {
                final byte[] reply = cluster.node("b").submit(put("k" + i, "v" + i)).get(15, TimeUnit.SECONDS);
                assertThat(text(reply)).isEmpty();
            }
            assertThat(text(cluster.node("c").submit(put("k0", "again")).get(15, TimeUnit.SECONDS))).isEqualTo("v0");
            // A linearizable read from any server sees the write that just completed.
            assertThat(text(cluster.node("a").readLinearizable(get("k0")).get(15, TimeUnit.SECONDS))).isEqualTo("again");
            TestCluster.await(Duration.ofSeconds(10), () -> cluster.running.values().stream()
                    .allMatch(n -> text(n.readLocal(get("k19"))).equals("v19")), "every replica to apply k19");
            final ControlPlaneNode leader = cluster.awaitLeader();
            TestCluster.await(Duration.ofSeconds(5), () -> cluster.roleEvents.stream()
                    .anyMatch(e -> e.leader() && e.node().equals(leader.name())), "the leader's role event");

            final String oldLeader = leader.name();
            final long oldTerm = leader.localStatus().term();
            cluster.stop(oldLeader);
            final ControlPlaneNode survivor = cluster.running.values().iterator().next();
            assertThat(text(survivor.submit(put("after", "failover")).get(20, TimeUnit.SECONDS))).isEmpty();
            final ControlPlaneNode newLeader = cluster.awaitLeader();
            assertThat(newLeader.name()).isNotEqualTo(oldLeader);
            assertThat(newLeader.localStatus().term()).isGreaterThan(oldTerm);
            for (ControlPlaneNode node : cluster.running.values()) {
                assertThat(text(node.readLinearizable(get("after")).get(15, TimeUnit.SECONDS))).isEqualTo("failover");
                assertThat(text(node.readLinearizable(get("k5")).get(15, TimeUnit.SECONDS))).isEqualTo("v5");
            }
        }
    }

    @Test
    void concurrentWritesShareLogEntriesAndEachGetsItsOwnReply() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            final ControlPlaneNode follower = cluster.running.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
            assertThat(text(leader.submit(put("k", "first")).get(15, TimeUnit.SECONDS))).isEmpty();
            final long entriesBefore = leader.localStatus().lastLogIndex();

            final List<CompletableFuture<byte[]>> replies = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                replies.add((i % 2 == 0 ? leader : follower).submit(put("k", "v" + i)));
            }
            final List<String> previous = new ArrayList<>();
            for (CompletableFuture<byte[]> reply : replies) {
                previous.add(text(reply.get(30, TimeUnit.SECONDS)));
            }

            // Each reply is the value the write replaced, so the replies chain the 301 writes into one order.
            final List<String> written = new ArrayList<>(List.of("first"));
            for (int i = 0; i < 300; i++) {
                written.add("v" + i);
            }
            assertThat(previous).doesNotHaveDuplicates().allMatch(written::contains);
            final String last = text(leader.readLinearizable(get("k")).get(15, TimeUnit.SECONDS));
            assertThat(previous).doesNotContain(last).contains("first");
            assertThat(leader.localStatus().lastLogIndex() - entriesBefore)
                .as("300 writes submitted at once travel in a few entries").isLessThan(50);
            TestCluster.await(Duration.ofSeconds(10), () -> cluster.running.values().stream()
                    .allMatch(n -> text(n.readLocal(get("k"))).equals(last)), "every replica to apply the last write");

            // Reads asked together share ReadIndex rounds; a query the application refuses fails alone.
            final List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                reads.add((i % 2 == 0 ? leader : follower).readLinearizable(get("k")));
            }
            final CompletableFuture<byte[]> refused = follower.readLinearizable("nonsense".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (CompletableFuture<byte[]> read : reads) {
                assertThat(text(read.get(15, TimeUnit.SECONDS))).isEqualTo(last);
            }
            assertThat(refused).failsWithin(Duration.ofSeconds(15)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .withMessageContaining("unknown query nonsense");
        }
    }

    @Test
    void readsAndWritesAskedTogetherOnTheLeaderKeepFlowing() throws Exception {
        // A read's round completes on a Ratis thread, under a lock of its ReadIndex; the next round
        // was once sent from that thread and waited for it: every later read and write hung.
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            for (int round = 0; round < 20; round++) {
                final List<CompletableFuture<byte[]>> calls = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    calls.add(leader.readLinearizable(get("k")));
                    calls.add(leader.submit(put("k", "r" + round + "-" + i)));
                }
                CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void allServersRestartFromTheirDataDirectoriesWithStateIntact() throws Exception {
        final long committedBefore;
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            cluster.awaitLeader();
            for (int i = 0; i < 30; i++) {
                cluster.node("a").submit(put("k" + i, "v" + i)).get(15, TimeUnit.SECONDS);
            }
            committedBefore = cluster.leader().orElseThrow().localStatus().commitIndex();
            // All at once, as in a power cut: close everything without waiting for the others.
            cluster.close();

            for (String name : new String[] {"a", "b", "c"}) {
                cluster.restart(name);
            }
            final ControlPlaneNode leader = cluster.awaitLeader();
            assertThat(text(cluster.node("b").readLinearizable(get("k29")).get(15, TimeUnit.SECONDS))).isEqualTo("v29");
            assertThat(text(cluster.node("c").readLinearizable(get("k0")).get(15, TimeUnit.SECONDS))).isEqualTo("v0");
            final ServerStatus status = leader.localStatus();
            assertThat(status.commitIndex()).isGreaterThan(committedBefore);
            assertThat(status.lastLogIndex()).isGreaterThanOrEqualTo(status.commitIndex());
            assertThat(status.appliedIndex()).isLessThanOrEqualTo(status.commitIndex());
            assertThat(status.leaderName()).isEqualTo(leader.name());
            assertThat(status.votedFor()).isEqualTo(leader.name());
            assertThat(status.raftAddress()).isEqualTo(cluster.addresses.get(leader.name()));
            assertThat(leader.members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b", "c");
        }
    }
}
