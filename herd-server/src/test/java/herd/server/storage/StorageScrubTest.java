package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a starting node's first scrub pass comes, and the record of the last pass that decides it. */
class StorageScrubTest {
    private static final Duration WEEK = Duration.ofDays(7);
    private static final long HOUR = 3_600_000;
    private static final long NOW = 1_000 * HOUR;

    @Test
    void aNodeWithoutARecordScrubsWithinTheHourOrTheIntervalIfShorter() {
        assertThat(StorageScrub.firstPassDelayMillis(OptionalLong.empty(), NOW, WEEK)).isEqualTo(HOUR);
        assertThat(StorageScrub.firstPassDelayMillis(OptionalLong.empty(), NOW, Duration.ofSeconds(2))).isEqualTo(2_000);
    }

    @Test
    void aRestartedNodeKeepsTheIntervalFromItsLastPass() {
        assertThat(StorageScrub.firstPassDelayMillis(OptionalLong.of(NOW - 24 * HOUR), NOW, WEEK))
            .as("a day after the last pass: six days to go").isEqualTo(6 * 24 * HOUR);
        assertThat(StorageScrub.firstPassDelayMillis(OptionalLong.of(NOW - 8 * 24 * HOUR), NOW, WEEK))
            .as("overdue: at once").isZero();
        assertThat(StorageScrub.firstPassDelayMillis(OptionalLong.of(NOW + 30 * 24 * HOUR), NOW, WEEK))
            .as("a record from the future (the clock went back): at most an interval").isEqualTo(WEEK.toMillis());
    }

    @Test
    void theRecordRoundTripsAndADamagedOrMissingOneCountsAsNone(@TempDir Path directory) throws Exception {
        Path file = directory.resolve(StorageScrub.LAST_PASS_FILE);
        assertThat(StorageScrub.readLastPassEnd(file)).isEmpty();
        StorageScrub.recordLastPassEnd(file, NOW);
        assertThat(StorageScrub.readLastPassEnd(file)).hasValue(NOW);
        StorageScrub.recordLastPassEnd(file, NOW + 5);
        assertThat(StorageScrub.readLastPassEnd(file)).hasValue(NOW + 5);
        assertThat(directory.resolve(StorageScrub.LAST_PASS_FILE + ".new")).doesNotExist();
        Files.writeString(file, "yesterday");
        assertThat(StorageScrub.readLastPassEnd(file)).isEmpty();
    }
}
