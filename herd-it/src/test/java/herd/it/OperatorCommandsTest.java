package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's commands against real herd servers running Debian's Dummy agent: create a resource,
 * move it, ban it, clear that, put its node in standby and back online, stop and start it, add and
 * remove constraints, be refused a fencing without a fence device, and delete it. The Dummy state
 * files (DATA/run/rsctmp/Dummy-NAME.state) are the ground truth of where it runs.
 */
class OperatorCommandsTest {
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    @TempDir Path root;
    private HerdCluster cluster;

    @AfterEach
    void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void anOperatorMovesBansStandbysStopsAndDeletesAResource() throws Exception {
        cluster = HerdCluster.start(root.resolve("cluster"), 3);
        concurrentEditsAreAllKept();
        ok("resource", "create", "primitive db ocf:heartbeat:Dummy op monitor interval=2s timeout=20s");
        String first = awaitOnlyOn("db", null);

        // move: cli-prefer-db INFINITY on the target, and the state files follow
        String target = cluster.names().stream().filter(n -> !n.equals(first)).findFirst().orElseThrow();
        assertThat(ok("resource", "move", "db", target).stdout()).contains("db prefers " + target);
        assertThat(awaitOnlyOn("db", first)).isEqualTo(target);
        assertThat(ok("status").stdout()).contains("Operator constraints:")
            .contains("cli-prefer-db: db prefers " + target + " (permanent");
        assertThat(ok("resource", "why", "db").stdout()).contains("db: Started on " + target)
            .contains("preferred by cli-prefer-db").contains("INFINITY");
        assertThat(ok("resource", "show", "db").stdout()).contains("primitive db ocf:heartbeat:Dummy")
            .contains("db: Started on " + target).contains("Constraints: cli-prefer-db");

        // ban from there with a lifetime: it leaves, and the move to that node is dropped
        assertThat(ok("resource", "ban", "db", target, "--lifetime", "1h").stdout()).contains("db is banned from " + target);
        awaitOnlyOn("db", target);
        assertThat(ok("status").stdout()).contains("cli-ban-db-on-" + target + ": db banned from " + target + " (until ")
            .doesNotContain("cli-prefer-db");
        assertThat(api("/v1/resources/db/why").toString()).contains("banned by cli-ban-db-on-" + target + " until ");

        // clear removes both kinds
        assertThat(ok("resource", "clear", "db").stdout()).contains("cleared the moves and bans of db");
        assertThat(api("/v1/constraints").toString()).doesNotContain("cli-");

        // standby: its resources leave the node; online: it is a candidate again
        String before = awaitOnlyOn("db", null);
        ok("node", "standby", before);
        assertThat(awaitOnlyOn("db", before)).isNotEqualTo(before);
        assertThat(nodeState(before)).isEqualTo("standby");
        assertThat(ok("resource", "why", "db").stdout()).contains("node is in standby");
        assertThat(ok("node", "attribute", before, "standby").stdout().strip()).isEqualTo("on");
        ok("node", "online", before);
        assertThat(nodeState(before)).isEqualTo("online");
        assertThat(configuration()).doesNotContain("standby");

        // stop and start through target-role; restart waits for both
        ok("resource", "stop", "db");
        awaitStopped("db");
        assertThat(api("/v1/resources/db/why").toString()).contains("target-role=Stopped");
        ok("resource", "start", "db");
        awaitOnlyOn("db", null);
        assertThat(ok("resource", "restart", "db", "--timeout", "60").stdout()).contains("restarted db");
        String running = awaitOnlyOn("db", null);
        assertThat(configuration()).as("restart restores the role it had").contains("target-role=Started");

        // update: params and meta
        ok("resource", "update", "db", "--param", "fake=42", "--meta", "resource-stickiness=100");
        assertThat(configuration()).contains("fake=42").contains("resource-stickiness=100");

        // constraints
        ok("constraint", "add", "location db-avoids-" + running + " db -INFINITY: " + running);
        assertThat(ok("constraint", "list").stdout()).contains("db-avoids-" + running + "  location  location db-avoids-");
        awaitOnlyOn("db", running);
        HerdCluster.CliResult unknown = cluster.cliAgainstCluster("constraint", "add", "colocation c1 INFINITY: db ghost");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.stderr()).contains("colocation c1: resource 'ghost' does not exist");

        // fencing needs a fence device; an unknown node is not found
        HerdCluster.CliResult fence = cluster.cliAgainstCluster("fence", "s2");
        assertThat(fence.exitCode()).as(fence.toString()).isEqualTo(2);
        assertThat(fence.stderr()).contains("cannot fence s2: no fence device is configured");
        HttpKv.Reply fenceGhost = cluster.client().send("POST", "/v1/nodes/s9/fence", "{}", cluster.adminToken());
        assertThat(fenceGhost.status()).isEqualTo(404);
        assertThat(nodeState("s2")).isEqualTo("online");

        // delete: refused while a constraint names it; with --force it is stopped first, then deleted
        HerdCluster.CliResult refused = cluster.cliAgainstCluster("resource", "delete", "db");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.stderr()).contains("db is named by the constraint db-avoids-" + running).contains("--force");
        assertThat(stateFiles("db")).hasSize(1);
        ok("resource", "delete", "db", "--force");
        assertThat(stateFiles("db")).as("a deleted resource was stopped everywhere first").isEmpty();
        assertThat(api("/v1/constraints").toString()).doesNotContain("db-avoids");
        HttpKv.Reply gone = cluster.client().getJson("/v1/resources/db");
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.body().toString()).contains("there is no resource 'db'");
    }

    /** Edits racing each other are each applied once: the server retries on a fresh read. */
    private void concurrentEditsAreAllKept() throws Exception {
        HttpKv client = cluster.client();
        String token = cluster.adminToken();
        int writers = 4;
        List<Callable<Integer>> edits = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            String body = "{\"value\": \"v" + i + "\"}";
            String path = "/v1/nodes/s1/attributes/a" + i;
            edits.add(() -> client.send("PUT", path, body, token).status());
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<Integer> result : pool.invokeAll(edits)) {
                assertThat(result.get()).isEqualTo(200);
            }
        }
        String config = configuration();
        for (int i = 0; i < writers; i++) {
            assertThat(config).contains("a" + i + "=v" + i);
        }
        HttpKv.Reply unknownNode = client.send("PUT", "/v1/nodes/s7/attributes/rack", "{\"value\": \"r1\"}", token);
        assertThat(unknownNode.status()).isEqualTo(404);
        assertThat(unknownNode.errorCode()).isEqualTo("node_not_found");
        for (int i = 0; i < writers; i++) {
            assertThat(client.send("DELETE", "/v1/nodes/s1/attributes/a" + i, null, token).status()).isEqualTo(200);
        }
        assertThat(configuration()).doesNotContain("node s1");
    }

    // ------------------------------------------------------------------ helpers

    private HerdCluster.CliResult ok(String... args) throws Exception {
        HerdCluster.CliResult result = cluster.cliAgainstCluster(args);
        assertThat(result.exitCode()).as("herd " + String.join(" ", args) + ": " + result).isZero();
        return result;
    }

    private JsonNode api(String path) throws Exception {
        HttpKv.Reply reply = cluster.client().getJson(path);
        assertThat(reply.status()).as(path + ": " + reply.body()).isEqualTo(200);
        return reply.body();
    }

    private String configuration() throws Exception {
        return api("/v1/configuration").path("crm").asText();
    }

    private JsonNode status() throws Exception {
        return cluster.client().getJson("/v1/resources/status").body();
    }

    private String nodeState(String name) throws Exception {
        for (JsonNode node : status().path("nodes")) {
            if (node.path("name").asText().equals(name)) {
                return node.path("state").asText();
            }
        }
        throw new AssertionError("no node " + name);
    }

    /**
     * Waits until the resource runs on exactly one node other than {@code notOn}, as both the status
     * and the state files say, and returns that node.
     */
    private String awaitOnlyOn(String resource, String notOn) throws Exception {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = status();
            for (JsonNode line : last.path("resources")) {
                if (line.path("id").asText().equals(resource) && line.path("role").asText().equals("Started")
                    && line.path("nodes").size() == 1 && !line.path("failed").asBoolean()) {
                    String node = line.path("nodes").get(0).asText();
                    if (!node.equals(notOn) && stateFiles(resource).equals(List.of(node))) {
                        return node;
                    }
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError(resource + " did not settle on one node (not " + notOn + ") within " + CONVERGE
            + "; state files on " + stateFiles(resource) + "; last status: " + last);
    }

    private void awaitStopped(String resource) throws Exception {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        while (System.nanoTime() < deadline) {
            boolean stoppedInStatus = true;
            for (JsonNode line : status().path("resources")) {
                if (line.path("id").asText().equals(resource) && !line.path("nodes").isEmpty()) {
                    stoppedInStatus = false;
                }
            }
            if (stoppedInStatus && stateFiles(resource).isEmpty()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(resource + " did not stop within " + CONVERGE + "; state files on " + stateFiles(resource));
    }

    /** The nodes where Dummy's state file says the resource runs: the ground truth. */
    private List<String> stateFiles(String resource) {
        List<String> nodes = new ArrayList<>();
        for (String name : cluster.names()) {
            Path file = cluster.server(name).data.resolve("run").resolve("rsctmp").resolve("Dummy-" + resource + ".state");
            if (Files.exists(file)) {
                nodes.add(name);
            }
        }
        return nodes;
    }
}
