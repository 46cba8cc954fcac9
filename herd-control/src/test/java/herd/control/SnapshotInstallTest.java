package herd.control;

import static herd.control.KeyValueApp.get;
import static herd.control.KeyValueApp.put;
import static herd.control.KeyValueApp.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotInstallTest {
    private static final int ENTRIES = 300;
    private static final String VALUE = "x".repeat(400);

    @TempDir Path dir;

    @Test
    void aNewServerCatchesUpFromTheLeadersSnapshotAfterTheLogWasPurged() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, b -> b
                .snapshotThresholdEntries(100).logSegmentSizeBytes(64 * 1024)
                .logPurgeGapEntries(1).logPreservedEntries(0)).bootstrap("a", "b", "c")) {
            cluster.awaitLeader();
            // One at a time: writes submitted together would share log entries, and the log must grow.
            for (int i = 0; i < ENTRIES; i++) {
                cluster.node("a").submit(put("k" + i, VALUE + i)).get(15, TimeUnit.SECONDS);
            }

            final Path leaderStorage = cluster.groupStorage(cluster.awaitLeader().name());
            TestCluster.await(Duration.ofSeconds(10), () -> !logFiles(leaderStorage).contains("log_0-"),
                    "the leader to purge its first log segment");
            assertThat(snapshotIndices(leaderStorage)).isNotEmpty();

            final ControlPlaneNode joiner = cluster.startJoining("d");
            // Not in any configuration yet: it must not elect itself.
            Thread.sleep(TestCluster.ELECTION_MAX.toMillis());
            assertThat(joiner.localStatus().role()).isNotEqualTo(ServerStatus.Role.LEADER);
            cluster.node("b").addServer("d", cluster.addresses.get("d"));

            TestCluster.await(Duration.ofSeconds(20),
                    () -> text(joiner.readLocal(get("k" + (ENTRIES - 1)))).equals(VALUE + (ENTRIES - 1)),
                    "the new server to have the last entry");
            assertThat(text(joiner.readLocal(get("k0")))).isEqualTo(VALUE + 0);
            final Path joinerStorage = cluster.groupStorage("d");
            assertThat(snapshotIndices(joinerStorage)).as("snapshot installed from the leader").isNotEmpty();
            assertThat(logFiles(joinerStorage)).as("the joiner never received the purged entries")
                    .doesNotContain("log_0-");
            assertThat(joiner.members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b", "c", "d");

            // The new server votes: three of four make a majority, so writes go on with one old server down.
            cluster.stop("a");
            assertThat(text(joiner.submit(put("after", "join")).get(20, TimeUnit.SECONDS))).isEmpty();

            // The joiner restarts from its installed snapshot plus the log written after it.
            cluster.stop("d");
            final ControlPlaneNode restarted = cluster.restart("d");
            assertThat(text(restarted.readLocal(get("k0")))).as("state loaded from the snapshot file").isEqualTo(VALUE + 0);
            TestCluster.await(Duration.ofSeconds(20), () -> text(restarted.readLocal(get("after"))).equals("join"),
                    "the restarted joiner to apply the entry written after the snapshot");
        }
    }

    private static String logFiles(Path groupStorage) {
        try (Stream<Path> files = Files.list(groupStorage.resolve("current"))) {
            return files.map(p -> p.getFileName().toString()).sorted().toList().toString();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> snapshotIndices(Path groupStorage) throws IOException {
        try (Stream<Path> files = Files.list(groupStorage.resolve("sm"))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("snapshot.") && !n.endsWith(".md5")).toList();
        }
    }
}
