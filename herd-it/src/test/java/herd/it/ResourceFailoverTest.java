package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resources on real herd processes with a real OCF agent (Debian's Dummy): the cluster probes, starts
 * and monitors a resource; when the node running it dies, the node is fenced (the fence device of
 * this test powers it off: it kills the process and wipes what ran there) and only then does the
 * resource start on a survivor. Throughout, the resource's state files say it never ran twice.
 */
class ResourceFailoverTest {
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
    void aDeadNodeIsFencedBeforeItsResourceStartsOnASurvivor() throws Exception {
        cluster = HerdCluster.start(root.resolve("cluster"), 3);
        Path fenceScript = writeFenceScript();
        writePidFiles();
        load("primitive db ocf:heartbeat:Dummy op monitor interval=2s timeout=20s\n"
            + "primitive fence-lab stonith:herd-script params command=\"" + fenceScript + "\"\n"
            + "property stonith-enabled=true\n");

        String first = awaitRunningOn("db", null);
        assertThat(stateFiles()).containsExactly(first);
        assertThat(status().path("fencingInUse").asBoolean()).isTrue();

        AtomicInteger worstCopies = new AtomicInteger();
        Thread watcher = Thread.ofVirtual().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                worstCopies.accumulateAndGet(stateFiles().size(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        cluster.kill(first); // the daemon dies; what it ran is still there until the node is powered off
        String second = awaitRunningOn("db", first);
        watcher.interrupt();
        watcher.join();

        assertThat(second).isNotEqualTo(first);
        assertThat(Files.readString(root.resolve("fenced.log"))).contains("reboot " + first);
        assertThat(worstCopies.get()).as("db never had two state files").isEqualTo(1);
        assertThat(stateFiles()).containsExactly(second);
        JsonNode lost = node(first);
        assertThat(lost.path("state").asText()).isEqualTo("offline");
        assertThat(lost.path("reason").asText()).startsWith("fenced");
        assertThat(status().path("fencingHistory").toString()).contains(first);
    }

    @Test
    void aFailedMonitorIsRecoveredAndCleanupForgetsTheFailure() throws Exception {
        cluster = HerdCluster.start(root.resolve("cluster"), 2);
        load("primitive db ocf:heartbeat:Dummy op monitor interval=1s timeout=20s\n");
        String node = awaitRunningOn("db", null);

        // The service dies behind the cluster's back: its recurring monitor notices and it is recovered.
        Files.delete(stateFile(node));
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        while (status().path("failCounts").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(status().path("failCounts").toString()).contains("monitor_1000");
        awaitRunningOn("db", null);
        assertThat(stateFiles()).hasSize(1);

        HerdCluster.CliResult cleanup = cluster.cliAgainstCluster("resource", "cleanup", "db");
        assertThat(cleanup.exitCode()).as(cleanup.toString()).isZero();
        assertThat(status().path("failCounts").isEmpty()).isTrue();
        HerdCluster.CliResult statusText = cluster.cliAgainstCluster("status");
        assertThat(statusText.stdout()).contains("Full List of Resources:").contains("db\t(ocf:heartbeat:Dummy):\t Started");
    }

    // ------------------------------------------------------------------ helpers

    private void load(String crm) throws Exception {
        Path file = root.resolve("config.crm");
        Files.writeString(file, crm);
        HerdCluster.CliResult load = cluster.cliAgainstCluster("configure", "load", file.toString());
        assertThat(load.exitCode()).as(load.toString()).isZero();
    }

    private JsonNode status() throws Exception {
        return cluster.client().getJson("/v1/resources/status").body();
    }

    private JsonNode node(String name) throws Exception {
        for (JsonNode node : status().path("nodes")) {
            if (node.path("name").asText().equals(name)) {
                return node;
            }
        }
        throw new AssertionError("no node " + name + " in " + status());
    }

    /** Waits until the status shows the resource started on one node other than {@code notOn}; returns it. */
    private String awaitRunningOn(String resource, String notOn) throws Exception {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = status();
                for (JsonNode line : last.path("resources")) {
                    if (line.path("id").asText().equals(resource) && line.path("role").asText().equals("Started")
                        && line.path("nodes").size() == 1 && !line.path("failed").asBoolean()) {
                        String node = line.path("nodes").get(0).asText();
                        if (!node.equals(notOn) && stateFiles().contains(node)) {
                            return node;
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // a server is restarting or electing: ask again
            }
            Thread.sleep(200);
        }
        throw new AssertionError(resource + " did not start within " + CONVERGE + "; last status: " + last + "\nlogs:\n"
            + cluster.names().stream().map(n -> n + ":\n" + cluster.log(n)).reduce("", String::concat));
    }

    private Path stateFile(String node) {
        return cluster.server(node).data.resolve("run").resolve("rsctmp").resolve("Dummy-db.state");
    }

    /** The nodes where Dummy's state file says db runs: the ground truth. */
    private List<String> stateFiles() {
        List<String> nodes = new ArrayList<>();
        for (String name : cluster.names()) {
            if (Files.exists(stateFile(name))) {
                nodes.add(name);
            }
        }
        return nodes;
    }

    private void writePidFiles() throws Exception {
        Path pids = Files.createDirectories(root.resolve("pids"));
        for (String name : cluster.names()) {
            Files.writeString(pids.resolve(name), Long.toString(cluster.server(name).process.pid()));
        }
    }

    /** A lab fence device: powers the target off by killing its process and wiping its run directory. */
    private Path writeFenceScript() throws Exception {
        Path script = root.resolve("fence.sh");
        Files.writeString(script, """
            #!/bin/sh
            set -e
            case "$HERD_FENCE_ACTION" in
              off|reboot) ;;
              *) exit 0 ;;  # monitor, status, on: the device answers, nothing is powered off
            esac
            target="$HERD_FENCE_TARGET"
            pid=$(cat "%1$s/pids/$target")
            kill -9 "$pid" 2>/dev/null || true
            rm -rf "%1$s/cluster/$target/run"
            echo "$HERD_FENCE_ACTION $target" >> "%1$s/fenced.log"
            """.formatted(root));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}
