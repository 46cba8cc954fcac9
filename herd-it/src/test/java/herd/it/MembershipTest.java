package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adding, removing and handing over servers on a live cluster of real processes. */
class MembershipTest {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir Path root;

    @Test
    void aServerAddedAfterTheLogWasPurgedCatchesUpFromASnapshot() throws Exception {
        // a snapshot every 50 entries, so the 200 writes below are purged from the log
        try (HerdCluster cluster = HerdCluster.start(root, 1, "--snapshot-every", "50")) {
            HttpKv client = cluster.client();
            for (int i = 0; i < 200; i++) {
                client.putUntilAcknowledged("k" + i, "v" + i, TIMEOUT);
            }

            cluster.addServer("s2");
            cluster.addServer("s3");

            for (String name : List.of("s2", "s3")) {
                ControlPlaneFaultTest.awaitLocalValue(cluster.clientOf(name), "k199", "v199");
                assertThat(cluster.clientOf(name).getJson(HttpKv.keyPath("k0") + "?consistency=local").value()).isEqualTo("v0");
            }
            assertThat(serverNames(cluster)).containsExactly("s1", "s2", "s3");
            assertThat(java.nio.file.Files.walk(cluster.server("s2").data.resolve("raft"))
                .anyMatch(p -> p.getFileName().toString().startsWith("snapshot."))).as("s2 holds an installed snapshot").isTrue();
            assertThat(cluster.logLinesWith("s2", "Installing snapshot")).as("a line per chunk received").isNotEmpty();
            assertThat(cluster.logLinesWith("s2", "successfully install the entire snapshot")).hasSize(1);
        }
    }

    @Test
    void serversAreRemovedAndLeadershipTransferredAndBadChangesRefused() throws Exception {
        try (HerdCluster cluster = HerdCluster.start(root, 3)) {
            HttpKv client = cluster.client();
            client.putUntilAcknowledged("a", "1", TIMEOUT);

            String target = cluster.leader().equals("s2") ? "s3" : "s2";
            HerdCluster.CliResult transfer = cluster.cliAgainstCluster("server", "transfer-leadership", target);
            assertThat(transfer.exitCode()).as(transfer.toString()).isZero();
            assertThat(cluster.leader()).isEqualTo(target);

            HerdCluster.CliResult unknown = cluster.cliAgainstCluster("server", "remove", "nobody");
            assertThat(unknown.exitCode()).isEqualTo(4);
            assertThat(unknown.stderr()).contains("nobody");

            HerdCluster.CliResult notWaiting = cluster.cliAgainstCluster("server", "add", "s9", "127.0.0.1:" + HerdCluster.freePortPair());
            assertThat(notWaiting.exitCode()).isEqualTo(4);
            assertThat(notWaiting.stderr()).contains("cannot reach");

            String removed = target.equals("s2") ? "s3" : "s2";
            HerdCluster.CliResult remove = cluster.cliAgainstCluster("server", "remove", removed);
            assertThat(remove.exitCode()).as(remove.toString()).isZero();
            assertThat(serverNames(cluster)).doesNotContain(removed).hasSize(2);

            assertThat(client.put("b", "2").status()).isEqualTo(200);
            assertThat(client.get("a").value()).isEqualTo("1");
        }
    }

    @Test
    void aWorkerJoinsWithoutAVoteAndServesTheSameStore() throws Exception {
        try (HerdCluster cluster = HerdCluster.start(root, 1)) {
            cluster.client().putUntilAcknowledged("shared", "from-server", TIMEOUT);

            cluster.joinWorker("w1");
            HttpKv worker = cluster.clientOf("w1");

            assertThat(worker.get("shared").value()).isEqualTo("from-server");
            assertThat(worker.put("written-on-worker", "yes").status()).isEqualTo(200);
            assertThat(cluster.clientOf("s1").get("written-on-worker").value()).isEqualTo("yes");
            assertThat(serverNames(cluster)).containsExactly("s1");
            JsonNode nodes = cluster.client().getJson("/v1/nodes").body().path("nodes");
            assertThat(nodes.toString()).contains("\"w1\"", "\"worker\"");
            HerdCluster.CliResult wrongSecret = HerdCluster.cli("join", "--name", "w2", "--address", "127.0.0.1:1",
                "--data", root.resolve("w2").toString(), "--server", cluster.endpoints().get(0),
                "--secret-file", cluster.adminTokenFile().toString());
            assertThat(wrongSecret.exitCode()).isNotZero();
        }
    }

    private static List<String> serverNames(HerdCluster cluster) throws Exception {
        JsonNode servers = cluster.client().getJson("/v1/servers").body().path("servers");
        List<String> names = new ArrayList<>();
        servers.forEach(row -> names.add(row.path("name").asText()));
        return names;
    }
}
