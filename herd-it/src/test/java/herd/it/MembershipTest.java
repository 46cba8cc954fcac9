package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
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

    /**
     * A worker leaves for good with {@code herd node remove}: refused, changing nothing, while it runs
     * a resource (which would otherwise start elsewhere while the worker still runs it) or when the
     * name is a voting server's or nobody's; once in standby it goes, its resource stays where it
     * moved, and its zone no longer counts for copies.
     */
    @Test
    void aWorkerIsRemovedOnlyOnceNothingOfItRunsAndItsZoneStopsCounting() throws Exception {
        try (HerdCluster cluster = HerdCluster.start(root, 1)) {
            cluster.joinWorker("w1");
            awaitAccepted(cluster, "volume", "create", "pair", "16M", "--copies", "2"); // once w1's storage is registered
            Files.writeString(root.resolve("db.crm"), "primitive db ocf:heartbeat:Dummy op monitor interval=2s timeout=20s\n"
                + "location db-on-w1 db 100: w1\n");
            assertThat(cluster.cliAgainstCluster("configure", "load", root.resolve("db.crm").toString()).exitCode()).isZero();
            awaitStartedOn(cluster, "db", "w1");

            HerdCluster.CliResult running = cluster.cliAgainstCluster("node", "remove", "w1");
            assertThat(running.exitCode()).as(running.toString()).isEqualTo(4);
            assertThat(running.stderr()).contains("node w1 runs db", "herd node standby w1");
            HerdCluster.CliResult server = cluster.cliAgainstCluster("node", "remove", "s1");
            assertThat(server.exitCode()).as(server.toString()).isEqualTo(4);
            assertThat(server.stderr()).contains("herd server remove s1");
            HerdCluster.CliResult nobody = cluster.cliAgainstCluster("node", "remove", "nobody");
            assertThat(nobody.exitCode()).as(nobody.toString()).isEqualTo(3);
            assertThat(nobody.stderr()).contains("no node 'nobody'");
            assertThat(nodeNames(cluster)).containsExactlyInAnyOrder("s1", "w1");
            assertThat(stateFiles(cluster)).containsExactly("w1");

            assertThat(cluster.cliAgainstCluster("node", "standby", "w1").exitCode()).isZero();
            awaitStartedOn(cluster, "db", "s1");
            HerdCluster.CliResult removed = cluster.cliAgainstCluster("node", "remove", "w1");
            assertThat(removed.exitCode()).as(removed.toString()).isZero();
            assertThat(removed.stdout()).contains("removed worker w1");

            assertThat(nodeNames(cluster)).containsExactly("s1");
            awaitStartedOn(cluster, "db", "s1");
            assertThat(stateFiles(cluster)).containsExactly("s1");
            HerdCluster.CliResult twoCopies = cluster.cliAgainstCluster("volume", "create", "wide", "16M", "--copies", "2");
            assertThat(twoCopies.exitCode()).as(twoCopies.toString()).isNotZero();
            assertThat(twoCopies.stderr()).contains("1 zone(s)");
            HerdCluster.CliResult again = cluster.cliAgainstCluster("node", "remove", "w1");
            assertThat(again.exitCode()).as(again.toString()).isEqualTo(3);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (cluster.logLinesWith("w1", "the leader does not know this node any more").isEmpty()
                && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(cluster.logLinesWith("w1", "the leader does not know this node any more"))
                .as("the removed worker, still running, says why it is no longer acknowledged").hasSize(1);

            // as the answer to the removal says: stopped, and joined again with an empty data directory
            cluster.kill("w1");
            deleteTree(cluster.server("w1").data);
            cluster.joinWorker("w1");
            assertThat(nodeNames(cluster)).containsExactlyInAnyOrder("s1", "w1");
            awaitAccepted(cluster, "volume", "create", "wide", "16M", "--copies", "2");
        }
    }

    private static void deleteTree(Path directory) throws java.io.IOException {
        try (java.util.stream.Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static void awaitAccepted(HerdCluster cluster, String... args) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        HerdCluster.CliResult result = cluster.cliAgainstCluster(args);
        while (result.exitCode() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(500);
            result = cluster.cliAgainstCluster(args);
        }
        assertThat(result.exitCode()).as(result.toString()).isZero();
    }

    /** Waits until the status shows the resource started on {@code node} alone, and its state file there. */
    private static void awaitStartedOn(HerdCluster cluster, String resource, String node) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        JsonNode status = null;
        while (System.nanoTime() < deadline) {
            status = cluster.client().getJson("/v1/resources/status").body();
            for (JsonNode line : status.path("resources")) {
                if (line.path("id").asText().equals(resource) && line.path("role").asText().equals("Started")
                    && line.path("nodes").toString().equals("[\"" + node + "\"]") && stateFiles(cluster).equals(List.of(node))) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError(resource + " did not start on " + node + " within " + TIMEOUT + "; last status: " + status);
    }

    /** The nodes where Dummy's state file says db runs: the ground truth. */
    private static List<String> stateFiles(HerdCluster cluster) {
        return cluster.names().stream().filter(name -> Files.exists(cluster.server(name).data.resolve("run")
            .resolve("rsctmp").resolve("Dummy-db.state"))).sorted().toList();
    }

    private static List<String> nodeNames(HerdCluster cluster) throws Exception {
        List<String> names = new ArrayList<>();
        cluster.client().getJson("/v1/nodes").body().path("nodes").forEach(row -> names.add(row.path("name").asText()));
        return names;
    }

    private static List<String> serverNames(HerdCluster cluster) throws Exception {
        JsonNode servers = cluster.client().getJson("/v1/servers").body().path("servers");
        List<String> names = new ArrayList<>();
        servers.forEach(row -> names.add(row.path("name").asText()));
        return names;
    }
}
