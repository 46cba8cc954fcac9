package herd.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaderWatchdogTest {
    /** Scheduling delay allowed on a loaded 2-core machine on top of bound + period. */
    private static final Duration SLACK = Duration.ofMillis(400);

    @TempDir Path dir;

    @Test
    void aLeaderCutOffFromItsMajorityStopsActingBeforeAnyoneElseCouldBeElected() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a", "b", "c")) {
            final ControlPlaneNode leader = cluster.awaitLeader();
            TestCluster.await(Duration.ofSeconds(10), () -> lastEventOf(cluster, leader.name()) != null
                    && lastEventOf(cluster, leader.name()).leader(), "the leader to act as leader");
            final List<String> followers = cluster.running.keySet().stream()
                    .filter(n -> !n.equals(leader.name())).toList();
            cluster.stop(followers.get(0));
            // The leader still has a majority (itself and one follower): it keeps acting.
            Thread.sleep(leader.config().leaderAckBound().multipliedBy(2).toMillis());
            assertThat(lastEventOf(cluster, leader.name()).leader()).isTrue();

            final long cutOffNanos = System.nanoTime(); // the last acknowledgement is at or before this
            cluster.stop(followers.get(1));
            TestCluster.await(Duration.ofSeconds(5), () -> !lastEventOf(cluster, leader.name()).leader(),
                    "the leader to stop acting");
            final long reactionMillis = (lastEventOf(cluster, leader.name()).nanos() - cutOffNanos) / 1_000_000;
            final Duration bound = leader.config().leaderAckBound().plus(leader.config().watchdogPeriod());
            System.out.printf("watchdog: leader stopped acting %d ms after losing its majority"
                    + " (bound %d ms + period %d ms, election timeout min %d ms)%n", reactionMillis,
                    leader.config().leaderAckBound().toMillis(), leader.config().watchdogPeriod().toMillis(),
                    leader.config().electionTimeoutMin().toMillis());
            assertThat(reactionMillis).isLessThanOrEqualTo(bound.plus(SLACK).toMillis());

            // And it steps down in Raft too, well before Ratis' own check would.
            TestCluster.await(leader.config().electionTimeoutMax(),
                    () -> leader.localStatus().role() != ServerStatus.Role.LEADER, "the leader to step down");
        }
    }

    private static TestCluster.RoleEvent lastEventOf(TestCluster cluster, String node) {
        TestCluster.RoleEvent last = null;
        for (TestCluster.RoleEvent event : cluster.roleEvents) {
            if (event.node().equals(node)) {
                last = event;
            }
        }
        return last;
    }
}
