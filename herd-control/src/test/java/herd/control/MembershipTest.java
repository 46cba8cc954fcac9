package herd.control;

import static herd.control.KeyValueApp.get;
import static herd.control.KeyValueApp.put;
import static herd.control.KeyValueApp.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MembershipTest {
    @TempDir Path dir;

    @Test
    void growsFromOneServerOneAtATimeTransfersLeadershipAndShrinks() throws Exception {
        try (TestCluster cluster = new TestCluster(dir).bootstrap("a")) {
            final ControlPlaneNode a = cluster.awaitLeader();
            a.submit(put("before", "growth")).get(15, TimeUnit.SECONDS);

            cluster.startJoining("b");
            a.addServer("b", cluster.addresses.get("b"));
            cluster.startJoining("c");
            a.addServer("c", cluster.addresses.get("c"));
            assertThat(a.members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b", "c");
            TestCluster.await(Duration.ofSeconds(5), () -> a.clientPeers().keySet().containsAll(java.util.Set.of("b", "c")),
                    "a's client to be pointed at b and c too");
            assertThat(text(cluster.node("c").readLinearizable(get("before")).get(15, TimeUnit.SECONDS)))
                    .isEqualTo("growth");

            cluster.node("b").transferLeadership("c");
            TestCluster.await(Duration.ofSeconds(10), () -> cluster.leader().map(n -> n.name().equals("c")).orElse(false),
                    "c to lead");

            // A second change while the first is in flight is refused, wherever it is asked.
            final String xAddress = TestCluster.freeAddress();
            // Not on the common pool: Ratis answers group-info requests there (parallelism 1 on 2 cores).
            final ExecutorService background = Executors.newSingleThreadExecutor();
            final CompletableFuture<Void> addX = CompletableFuture.runAsync(
                    () -> cluster.node("c").addServer("x", xAddress), background);
            Thread.sleep(500); // x is not running yet: the leader is waiting for it to catch up
            assertThat(addX).as("adding x waits for x").isNotDone();
            assertThatThrownBy(() -> cluster.node("b").addServer("y", TestCluster.freeAddress()))
                    .isInstanceOf(MembershipChangeRefusedException.class)
                    .hasMessageContaining("in flight");
            assertThatThrownBy(() -> cluster.node("c").addServer("y", TestCluster.freeAddress()))
                    .isInstanceOf(MembershipChangeRefusedException.class)
                    .hasMessageContaining("in flight");
            cluster.addresses.put("x", xAddress);
            cluster.start("x", java.util.Map.of("a", cluster.addresses.get("a")));
            addX.get(30, TimeUnit.SECONDS);
            background.shutdown();
            assertThat(cluster.node("a").members()).extracting(Member::name)
                    .containsExactlyInAnyOrder("a", "b", "c", "x");

            cluster.node("a").removeServer("x");
            cluster.stop("x");
            assertThat(cluster.node("a").members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b", "c");
            TestCluster.await(Duration.ofSeconds(5), () -> !cluster.node("a").clientPeers().containsKey("x"),
                    "a's client to leave the removed x");

            // With b down for longer than the maximum election timeout, adding is refused.
            cluster.stop("b");
            Thread.sleep(TestCluster.ELECTION_MAX.toMillis() + 500);
            assertThatThrownBy(() -> cluster.node("a").addServer("y", TestCluster.freeAddress()))
                    .isInstanceOf(MembershipChangeRefusedException.class)
                    .hasMessageContaining("b is unreachable");
            assertThatThrownBy(() -> cluster.node("a").removeServer("nobody"))
                    .isInstanceOf(MembershipChangeRefusedException.class)
                    .hasMessageContaining("not a voting server");

            cluster.node("a").removeServer("b");
            assertThat(cluster.node("c").members()).extracting(Member::name).containsExactlyInAnyOrder("a", "c");
            assertThat(text(cluster.node("a").submit(put("after", "shrink")).get(15, TimeUnit.SECONDS))).isEmpty();
            assertThat(text(cluster.node("c").readLinearizable(get("after")).get(15, TimeUnit.SECONDS)))
                    .isEqualTo("shrink");
        }
    }
}
