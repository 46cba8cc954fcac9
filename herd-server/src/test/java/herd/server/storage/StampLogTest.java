package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.store.InFlightOperations;
import herd.blockcore.ObjectId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StampLogTest {
    @TempDir Path directory;

    @Test
    void stampsSurviveAReopenAndTheNewestWins() throws Exception {
        Path file = directory.resolve("object-stamps");
        ObjectId first = ObjectId.of(1, 0);
        ObjectId second = ObjectId.of(1, 7);
        try (StampLog stamps = StampLog.open(file, new InFlightOperations())) {
            assertThat(stamps.epoch(first)).isEmpty();
            stamps.set(first, 3, 2);
            stamps.set(second, 2, -1);
            stamps.set(first, 5, 3);
            assertThat(stamps.epoch(first)).hasValue(5);
        }
        try (StampLog reopened = StampLog.open(file, new InFlightOperations())) {
            assertThat(reopened.epoch(first)).hasValue(5);
            assertThat(reopened.get(first)).hasValue(new StampLog.Stamp(5, 3));
            assertThat(reopened.get(first).orElseThrow().effective(5)).as("checked in this epoch: worth its basis").isEqualTo(3);
            assertThat(reopened.get(first).orElseThrow().effective(6)).as("from a later epoch: worth its stamp").isEqualTo(5);
            assertThat(reopened.epoch(second)).hasValue(2);
            reopened.forget(second);
            assertThat(reopened.epoch(second)).isEmpty();
        }
        assertThat(Files.size(file)).as("rewritten compactly on open: two records").isEqualTo(48);
    }

    @Test
    void aTornLastRecordIsIgnored() throws Exception {
        Path file = directory.resolve("object-stamps");
        try (StampLog stamps = StampLog.open(file, new InFlightOperations())) {
            stamps.set(ObjectId.of(2, 1), 4, 4);
        }
        Files.write(file, new byte[] {1, 2, 3}, StandardOpenOption.APPEND); // a crash in the middle of an append
        try (StampLog reopened = StampLog.open(file, new InFlightOperations())) {
            assertThat(reopened.epoch(ObjectId.of(2, 1))).hasValue(4);
        }
        assertThat(Files.size(file)).isEqualTo(24);
    }
}
