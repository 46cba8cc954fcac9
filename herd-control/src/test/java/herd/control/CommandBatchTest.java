package herd.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class CommandBatchTest {
    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void aBatchRoundTripsAndIsToldApartFromAPlainCommand() {
        final byte[] batch = CommandBatch.encode(List.of(bytes("{\"command\":\"a\"}"), new byte[0], bytes("c")));

        assertThat(CommandBatch.isBatch(batch)).isTrue();
        assertThat(CommandBatch.decode(batch)).extracting(CommandBatchTest::text).containsExactly("{\"command\":\"a\"}", "", "c");
        assertThat(CommandBatch.isBatch(bytes("{\"command\":\"a\"}"))).isFalse();
        assertThat(CommandBatch.isBatch(new byte[0])).isFalse();
    }

    @Test
    void aDamagedBatchIsRefused() {
        final byte[] batch = CommandBatch.encode(List.of(bytes("one"), bytes("two")));

        assertThatThrownBy(() -> CommandBatch.decode(Arrays.copyOf(batch, batch.length - 1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ends in the middle");
        assertThatThrownBy(() -> CommandBatch.decode(Arrays.copyOf(batch, batch.length + 1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after the last part");
        assertThatThrownBy(() -> CommandBatch.decodeReplies(CommandBatch.encodeReplies(List.of(bytes("x"))), 2))
            .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aQueryPartCarriesItsAnswerOrItsFailure() {
        assertThat(text(CommandBatch.unpackAnswer(CommandBatch.answered(bytes("v1"))))).isEqualTo("v1");
        assertThat(CommandBatch.unpackAnswer(CommandBatch.answered(new byte[0]))).isEmpty();
        assertThatThrownBy(() -> CommandBatch.unpackAnswer(CommandBatch.failed("unknown query x")))
            .isInstanceOf(ControlPlaneException.class).hasMessageContaining("unknown query x");
    }

    @Test
    void positionsIncreaseWithEveryCommandAcrossEntries() {
        assertThat(LogPosition.of(7, 0)).isLessThan(LogPosition.of(7, 1));
        assertThat(LogPosition.of(7, LogPosition.PER_ENTRY_MAX - 1)).isLessThan(LogPosition.of(8, 0));
        assertThat(LogPosition.logIndexOf(LogPosition.of(8, 5))).isEqualTo(8);
        assertThatThrownBy(() -> LogPosition.of(7, LogPosition.PER_ENTRY_MAX)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A sender whose entries complete when the test says so. */
    private static final class HeldSender {
        final List<byte[]> entries = new java.util.concurrent.CopyOnWriteArrayList<>(); // sent from completion threads
        final List<CompletableFuture<byte[]>> replies = new java.util.concurrent.CopyOnWriteArrayList<>();

        CompletableFuture<byte[]> send(byte[] entry) {
            entries.add(entry);
            final CompletableFuture<byte[]> reply = new CompletableFuture<>();
            replies.add(reply);
            return reply;
        }

        /** Answers entry i as the state machine would: each command's reply is "ok " + the command. */
        void answer(int i) {
            final byte[] entry = entries.get(i);
            if (!CommandBatch.isBatch(entry)) {
                replies.get(i).complete(bytes("ok " + text(entry)));
                return;
            }
            replies.get(i).complete(CommandBatch.encodeReplies(
                CommandBatch.decode(entry).stream().map(c -> bytes("ok " + text(c))).toList()));
        }
    }

    /** Completed entries are handled on a thread of their own: waits until the next one has left. */
    private static void awaitEntries(HeldSender sender, int count) throws InterruptedException {
        for (int waited = 0; sender.entries.size() < count && waited < 5_000; waited += 5) {
            Thread.sleep(5);
        }
        assertThat(sender.entries).hasSize(count);
    }

    @Test
    void commandsThatArriveWhileAnEntryIsInFlightLeaveTogetherInTheNext() throws Exception {
        final HeldSender sender = new HeldSender();
        final CommandBatcher batcher = new CommandBatcher(1, sender::send);

        final CompletableFuture<byte[]> first = batcher.submit(bytes("a"));
        final CompletableFuture<byte[]> second = batcher.submit(bytes("b"));
        final CompletableFuture<byte[]> third = batcher.submit(bytes("c"));

        assertThat(sender.entries).hasSize(1);
        assertThat(text(sender.entries.get(0))).as("alone, in the plain format").isEqualTo("a");
        sender.answer(0);
        assertThat(text(first.get(5, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo("ok a");
        awaitEntries(sender, 2);
        assertThat(CommandBatch.decode(sender.entries.get(1))).extracting(CommandBatchTest::text).containsExactly("b", "c");
        assertThat(second).isNotDone();
        sender.answer(1);
        assertThat(text(second.get(5, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo("ok b");
        assertThat(text(third.get(5, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo("ok c");
    }

    @Test
    void aFailedEntryFailsEveryCommandInItAndTheNextEntryStillLeaves() throws Exception {
        final HeldSender sender = new HeldSender();
        final CommandBatcher batcher = new CommandBatcher(1, sender::send);
        batcher.submit(bytes("a"));
        final CompletableFuture<byte[]> second = batcher.submit(bytes("b"));
        final CompletableFuture<byte[]> third = batcher.submit(bytes("c"));
        sender.answer(0);
        awaitEntries(sender, 2);

        sender.replies.get(1).completeExceptionally(new ControlPlaneUnavailableException("no leader", null));
        assertThatThrownBy(second::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ControlPlaneUnavailableException.class);
        assertThatThrownBy(third::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ControlPlaneUnavailableException.class);
        final CompletableFuture<byte[]> fourth = batcher.submit(bytes("d"));

        awaitEntries(sender, 3);
        sender.answer(2);
        assertThat(text(fourth.get(5, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo("ok d");
    }

    @Test
    void anEntryThatStallsNoLongerHoldsBackTheCommandsBehindIt() throws Exception {
        final HeldSender sender = new HeldSender();
        final CommandBatcher batcher = new CommandBatcher(1, sender::send);
        batcher.submit(bytes("stuck, e.g. waiting out a leader change"));
        final CompletableFuture<byte[]> next = batcher.submit(bytes("next"));
        assertThat(sender.entries).hasSize(1);

        awaitEntries(sender, 2); // after CommandBatcher.STALLED_AFTER_MILLIS
        sender.answer(1);
        assertThat(text(next.get(5, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo("ok next");
    }

    @Test
    void aBatchStopsAtItsByteLimit() throws Exception {
        final HeldSender sender = new HeldSender();
        final CommandBatcher batcher = new CommandBatcher(1, sender::send);
        batcher.submit(bytes("first"));
        final byte[] big = new byte[CommandBatch.BYTES_MAX / 2 + 1];
        batcher.submit(big);
        batcher.submit(big);
        batcher.submit(bytes("small"));

        sender.answer(0);
        awaitEntries(sender, 2);
        assertThat(sender.entries.get(1)).as("one big command alone, in the plain format").isEqualTo(big);
        sender.answer(1);
        awaitEntries(sender, 3);
        assertThat(CommandBatch.decode(sender.entries.get(2))).hasSize(2);
    }
}
