package herd.control;

import static herd.control.KeyValueApp.put;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot writes the whole state, so the next one waits until the log since the last holds as
 * many bytes as that snapshot, however many entries that takes beyond the threshold: small writes
 * to a large state do not rewrite it every few entries.
 */
class SnapshotByLogSizeTest {
    private static final int THRESHOLD = 10;
    private static final String LARGE_VALUE = "x".repeat(4000);

    @TempDir Path dir;

    @Test
    void afterSmallWritesToALargeStateTheNextSnapshotWaitsForAsManyLoggedBytesAsTheLastHolds() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, b -> b.snapshotThresholdEntries(THRESHOLD)
                .logSegmentSizeBytes(64 * 1024)).bootstrap("a")) {
            cluster.awaitLeader();
            final ControlPlaneNode node = cluster.node("a");
            for (int i = 0; i < 3 * THRESHOLD; i++) {
                write(node, put("large" + i, LARGE_VALUE));
            }
            TestCluster.await(Duration.ofSeconds(20), () -> !snapshots(cluster).isEmpty(), "a first snapshot");
            final long lastLargeIndex = node.localStatus().appliedIndex();

            // Five thresholds' worth of entries, each a few bytes: by entries alone, five snapshots.
            long smallBytes = 0;
            for (int i = 0; i < 5 * THRESHOLD; i++) {
                final byte[] small = put("small", "v" + i);
                write(node, small);
                smallBytes += small.length;
            }
            final List<Path> afterSmallWrites = snapshots(cluster);
            assertThat(afterSmallWrites).as("snapshots taken during the small writes")
                    .allSatisfy(snapshot -> assertThat(index(snapshot)).isLessThanOrEqualTo(lastLargeIndex));

            // Overwriting large values logs bytes fast: a new snapshot once the bytes logged after
            // the last one add up to its size. Each write waits for the one before, so each is an entry.
            final Path latest = afterSmallWrites.get(afterSmallWrites.size() - 1);
            final long latestBytes = Files.size(latest);
            final long largeBytes = put("large0", LARGE_VALUE).length;
            // The new snapshot's file appears once written, a few entries after it was due at most.
            final long slack = 10 * largeBytes;
            long loggedSinceLatest = (lastLargeIndex - index(latest)) * largeBytes + smallBytes;
            for (int overwrite = 0; snapshots(cluster).stream().noneMatch(s -> index(s) > lastLargeIndex); overwrite++) {
                assertThat(loggedSinceLatest).as("bytes logged without a new snapshot").isLessThan(latestBytes + slack);
                write(node, put("large" + overwrite % (3 * THRESHOLD), LARGE_VALUE));
                loggedSinceLatest += largeBytes;
            }
            assertThat(loggedSinceLatest).as("bytes logged after the last snapshot (%d bytes) until the next", latestBytes)
                    .isGreaterThanOrEqualTo(latestBytes);
        }
    }

    private static void write(ControlPlaneNode node, byte[] command) throws Exception {
        node.submit(command).get(10, TimeUnit.SECONDS);
    }

    /** The durable snapshot files of server a, oldest first. */
    private static List<Path> snapshots(TestCluster cluster) {
        try (Stream<Path> files = Files.list(cluster.groupStorage("a").resolve("sm"))) {
            return files.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+"))
                    .sorted(Comparator.comparingLong(SnapshotByLogSizeTest::index)).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The log index in a snapshot file's name, snapshot.TERM_INDEX. */
    private static long index(Path snapshot) {
        final String name = snapshot.getFileName().toString();
        return Long.parseLong(name.substring(name.indexOf('_') + 1));
    }
}
