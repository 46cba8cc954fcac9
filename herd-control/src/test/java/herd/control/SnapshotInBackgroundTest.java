package herd.control;

import static herd.control.KeyValueApp.get;
import static herd.control.KeyValueApp.put;
import static herd.control.KeyValueApp.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every server reaches the snapshot threshold at the same entry; writing a large state takes
 * seconds, so it must not hold up applying, or every write to the cluster would wait that long.
 */
class SnapshotInBackgroundTest {
    private static final int THRESHOLD = 20;

    @TempDir Path dir;

    @Test
    void writesGoOnWhileSnapshotsAreWrittenAndTheLogIsPurgedOnceOneIsDurable() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, b -> b
                .snapshotThresholdEntries(THRESHOLD).logSegmentSizeBytes(64 * 1024)
                .logPurgeGapEntries(1).logPreservedEntries(0)).bootstrap("a", "b", "c")) {
            cluster.awaitLeader();
            final CountDownLatch held = new CountDownLatch(1);
            cluster.apps.values().forEach(app -> app.snapshotWritesHeld = held);

            // Each write waits for its predecessor, so each is an entry of its own: several
            // thresholds' worth, applied while every server's snapshot write is held.
            final String value = "x".repeat(4000);
            for (int i = 0; i < 4 * THRESHOLD; i++) {
                cluster.node("a").submit(put("k" + i, value)).get(10, TimeUnit.SECONDS);
            }
            for (String name : new String[] {"a", "b", "c"}) {
                assertThat(snapshotFiles(cluster, name)).as("no snapshot of %s is durable while held", name).isZero();
            }
            assertThat(logFiles(cluster, "a")).as("nothing purged before a snapshot is durable").contains("log_0-");

            held.countDown();
            // Ratis learns of the written snapshot at its next look, after the next entries.
            TestCluster.await(Duration.ofSeconds(20), () -> {
                try {
                    cluster.node("a").submit(put("more", "entries")).get(10, TimeUnit.SECONDS);
                    return snapshotFiles(cluster, "a") > 0 && !logFiles(cluster, "a").contains("log_0-");
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "a snapshot written and the log purged up to it");

            // A restart loads that snapshot and replays what followed it.
            cluster.stop("b");
            final ControlPlaneNode restarted = cluster.restart("b");
            TestCluster.await(Duration.ofSeconds(20), () -> text(restarted.readLocal(get("more"))).equals("entries"),
                    "the restarted server to apply the entries after its snapshot");
            assertThat(text(restarted.readLocal(get("k0")))).isEqualTo(value);
        }
    }

    private static long snapshotFiles(TestCluster cluster, String node) throws IOException {
        try (Stream<Path> files = Files.list(cluster.groupStorage(node).resolve("sm"))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("snapshot.") && !n.endsWith(".md5")).count();
        }
    }

    private static String logFiles(TestCluster cluster, String node) throws IOException {
        try (Stream<Path> files = Files.list(cluster.groupStorage(node).resolve("current"))) {
            return files.map(p -> p.getFileName().toString()).sorted().toList().toString();
        }
    }
}
