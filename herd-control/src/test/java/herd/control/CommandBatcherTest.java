package herd.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Group commit with one entry in flight: what waits, what leaves together, and what releases the wait. */
class CommandBatcherTest {
    private final List<byte[]> sentEntries = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<byte[]>> pendingReplies = new CopyOnWriteArrayList<>();
    private final List<Thread> sentFrom = new CopyOnWriteArrayList<>();
    private final CommandBatcher batcher = new CommandBatcher(1, entry -> {
        sentFrom.add(Thread.currentThread());
        sentEntries.add(entry);
        final CompletableFuture<byte[]> reply = new CompletableFuture<>();
        pendingReplies.add(reply);
        return reply;
    });

    @Test
    void commandsWaitingBehindAnEntryLeaveTogetherWhenItCompletes() throws Exception {
        final CompletableFuture<byte[]> first = batcher.submit(bytes("a"));
        final CompletableFuture<byte[]> second = batcher.submit(bytes("b"));
        final CompletableFuture<byte[]> third = batcher.submit(bytes("c"));
        assertThat(sentEntries).hasSize(1);

        pendingReplies.get(0).complete(bytes("reply a"));
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo(bytes("reply a"));
        awaitSent(2);
        assertThat(CommandBatch.decode(sentEntries.get(1))).containsExactly(bytes("b"), bytes("c"));

        pendingReplies.get(1).complete(CommandBatch.encodeReplies(List.of(bytes("reply b"), bytes("reply c"))));
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo(bytes("reply b"));
        assertThat(third.get(5, TimeUnit.SECONDS)).isEqualTo(bytes("reply c"));
    }

    @Test
    void anEntrysCommandsAreAnsweredOnTheThreadThatCompletesItAndTheNextEntryLeavesFromAnother() throws Exception {
        final CompletableFuture<byte[]> first = batcher.submit(bytes("a"));
        batcher.submit(bytes("b"));
        final AtomicReference<Thread> answeredOn = new AtomicReference<>();
        first.thenRun(() -> answeredOn.set(Thread.currentThread()));

        pendingReplies.get(0).complete(bytes("reply a")); // as a Ratis thread completes an entry
        assertThat(answeredOn.get()).as("no hand-off before the caller is answered").isSameAs(Thread.currentThread());
        awaitSent(2);
        assertThat(sentFrom.get(1)).as("a Ratis thread must not send the next entry itself")
            .isNotSameAs(Thread.currentThread());
    }

    @Test
    void releasingLetsWaitingCommandsLeaveWhileTheEntryInFlightStillCompletesItsOwn() throws Exception {
        final CompletableFuture<byte[]> first = batcher.submit(bytes("a"));
        final CompletableFuture<byte[]> second = batcher.submit(bytes("b"));
        assertThat(sentEntries).hasSize(1);

        batcher.releaseInFlight();
        assertThat(sentEntries).hasSize(2);
        assertThat(sentEntries.get(1)).isEqualTo(bytes("b"));

        pendingReplies.get(1).complete(bytes("reply b"));
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo(bytes("reply b"));
        assertThat(first).isNotDone();
        pendingReplies.get(0).complete(bytes("reply a"));
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo(bytes("reply a"));
        assertThat(sentEntries).as("nothing was sent twice").hasSize(2);
    }

    private void awaitSent(int entries) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (sentEntries.size() < entries && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(sentEntries).hasSize(entries);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
