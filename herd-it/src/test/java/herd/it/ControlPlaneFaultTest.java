package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real herd processes killed with SIGKILL: acknowledged writes survive, the cluster keeps working. */
class ControlPlaneFaultTest {
    static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(60);

    @TempDir Path root;

    @Test
    void killingTheLeaderLosesNoAcknowledgedWriteAndWritesContinue() throws Exception {
        try (HerdCluster cluster = HerdCluster.start(root, 3)) {
            HttpKv client = cluster.client();
            List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                client.putUntilAcknowledged("before/" + i, "v" + i, FAILOVER_TIMEOUT);
                acknowledged.add("before/" + i);
            }
            String oldLeader = cluster.leader();

            cluster.kill(oldLeader);
            HttpKv survivors = cluster.client();
            for (int i = 0; i < 20; i++) {
                survivors.putUntilAcknowledged("after/" + i, "w" + i, FAILOVER_TIMEOUT);
            }

            String newLeader = survivors.awaitLeader(FAILOVER_TIMEOUT);
            assertThat(newLeader).isNotEqualTo(oldLeader);
            for (int i = 0; i < 20; i++) {
                assertThat(survivors.get("before/" + i).value()).isEqualTo("v" + i);
                assertThat(survivors.get("after/" + i).value()).isEqualTo("w" + i);
            }

            cluster.restart(oldLeader);
            HttpKv rejoined = cluster.clientOf(oldLeader);
            awaitLocalValue(rejoined, "after/19", "w19");
        }
    }

    @Test
    void allServersKilledAtOnceRestartWithEveryAcknowledgedWrite() throws Exception {
        try (HerdCluster cluster = HerdCluster.start(root, 3)) {
            HttpKv client = cluster.client();
            for (int i = 0; i < 50; i++) {
                client.putUntilAcknowledged("k" + i, "value-" + i, FAILOVER_TIMEOUT);
            }
            long revision = client.get("k49").revision();

            cluster.killAll();
            for (String name : cluster.names()) {
                cluster.start(name);
            }
            HttpKv restarted = cluster.client();
            restarted.awaitLeader(HerdCluster.START_TIMEOUT);

            for (int i = 0; i < 50; i++) {
                HttpKv.Reply reply = restarted.get("k" + i);
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.value()).isEqualTo("value-" + i);
            }
            assertThat(restarted.get("k0").revision()).isGreaterThanOrEqualTo(revision);
            assertThat(restarted.put("after-restart", "x").status()).isEqualTo(200);
        }
    }

    /** Waits until one server's own copy (a local read) shows a value: it has caught up. */
    static void awaitLocalValue(HttpKv client, String key, String value) throws Exception {
        long deadline = System.nanoTime() + FAILOVER_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpKv.Reply reply = client.getJson(HttpKv.keyPath(key) + "?consistency=local");
                if (reply.status() == 200 && reply.value().equals(value)) {
                    return;
                }
            } catch (java.io.IOException e) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError(key + " never reached " + value + " on the restarted server");
    }
}
