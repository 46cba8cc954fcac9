package herd.control;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Group commit. A command submitted while {@code inFlightMax} entries are already on their way waits,
 * and every command waiting when one of them completes leaves together in the next entry: under load
 * one replication round (appends, fsyncs, acknowledgements) carries many commands instead of one. A
 * command submitted while fewer entries are in flight leaves at once, alone, in the plain format, so
 * a lone client sees no extra latency.
 *
 * <p>Each command's reply (or the entry's failure) completes that command's own future. The same
 * works for linearizable reads: queries that wait share the next ReadIndex round, each read still
 * starting its round after it was asked.
 */
final class CommandBatcher {
    private record Waiting(byte[] command, CompletableFuture<byte[]> reply) { }

    /** Where the next entry is sent from after one completes or stalls: one virtual thread each. */
    private static final Executor NEXT_ENTRY_SENDERS = Executors.newVirtualThreadPerTaskExecutor();
    /**
     * An entry in flight longer than this no longer holds back the commands behind it: it is waiting
     * out a leader change (its client retries), and the ones after it should look for the new leader
     * on their own rather than queue behind it. Far above a replication round under load (tens of ms).
     */
    static final long STALLED_AFTER_MILLIS = 250;
    private static final ScheduledThreadPoolExecutor STALL_TIMER = stallTimer();

    private final int inFlightMax;
    /** Sends one entry's bytes and completes with its reply. */
    private final Function<byte[], CompletableFuture<byte[]>> send;
    /** Turns one part of a batch reply into that command's reply, or throws its failure. */
    private final UnaryOperator<byte[]> unpackPart;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    /** One token per entry that still counts against {@code inFlightMax}; guarded by this. */
    private final Set<Object> inFlight = new HashSet<>();

    /** For commands: every part of a batch reply is a command's reply as it is. */
    CommandBatcher(int inFlightMax, Function<byte[], CompletableFuture<byte[]>> send) {
        this(inFlightMax, send, UnaryOperator.identity());
    }

    CommandBatcher(int inFlightMax, Function<byte[], CompletableFuture<byte[]>> send, UnaryOperator<byte[]> unpackPart) {
        if (inFlightMax < 1) {
            throw new IllegalArgumentException("at least one entry must be allowed in flight, not " + inFlightMax);
        }
        this.inFlightMax = inFlightMax;
        this.send = send;
        this.unpackPart = unpackPart;
    }

    CompletableFuture<byte[]> submit(byte[] command) {
        final Waiting entry = new Waiting(command, new CompletableFuture<>());
        synchronized (this) {
            waiting.add(entry);
        }
        sendWhatFits();
        return entry.reply();
    }

    /** Submits several commands at once: they wait together, so they leave in as few entries as fit. */
    List<CompletableFuture<byte[]>> submitAll(List<byte[]> commands) {
        final List<Waiting> entries = commands.stream().map(c -> new Waiting(c, new CompletableFuture<byte[]>())).toList();
        synchronized (this) {
            waiting.addAll(entries);
        }
        sendWhatFits();
        return entries.stream().map(Waiting::reply).toList();
    }

    /**
     * Lets the waiting commands leave now instead of behind the entries already in flight, as if
     * those had stalled. For a change of leader: the entries on their way went towards the old one
     * and may still be finding the new one, which could take the waiting commands at once. Those
     * entries still complete their own commands; nothing is sent twice.
     */
    void releaseInFlight() {
        synchronized (this) {
            inFlight.clear();
        }
        sendWhatFits();
    }

    /** Sends batches of waiting commands while fewer than {@code inFlightMax} entries are in flight. */
    private void sendWhatFits() {
        final Map<Object, List<Waiting>> batches = new LinkedHashMap<>();
        synchronized (this) {
            while (inFlight.size() < inFlightMax && !waiting.isEmpty()) {
                final Object token = new Object();
                inFlight.add(token);
                batches.put(token, takeBatch());
            }
        }
        batches.forEach((token, batch) -> send(batch, token));
    }

    /** The longest run of waiting commands within the batch limits; at least one. */
    private List<Waiting> takeBatch() {
        final List<Waiting> batch = new ArrayList<>();
        long bytes = 0;
        while (!waiting.isEmpty() && batch.size() < CommandBatch.COMMANDS_MAX) {
            final int size = waiting.peek().command().length;
            if (!batch.isEmpty() && bytes + size > CommandBatch.BYTES_MAX) {
                break;
            }
            bytes += size;
            batch.add(waiting.poll());
        }
        return batch;
    }

    /** Sends one entry, counted in flight under {@code token} until it completes or stalls. */
    private void send(List<Waiting> batch, Object token) {
        final byte[] entry = batch.size() == 1 ? batch.get(0).command()
                : CommandBatch.encode(batch.stream().map(Waiting::command).toList());
        CompletableFuture<byte[]> sent;
        try {
            sent = send.apply(entry);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        final ScheduledFuture<?> stall = STALL_TIMER.schedule(() -> {
            if (stopCounting(token)) {
                NEXT_ENTRY_SENDERS.execute(this::sendWhatFits);
            }
        }, STALLED_AFTER_MILLIS, TimeUnit.MILLISECONDS);
        // The entry's commands are answered on the thread that completes it, often a Ratis thread:
        // their callers only wait for the answer (see ControlPlaneNode#submit), and a hand-off to
        // another thread first would add a wake-up to every write's latency. The next entry is sent
        // from a thread of its own: sending it from a Ratis thread (a read's completes under a lock
        // of Ratis' ReadIndex) would wait for work that same thread has to do.
        sent.whenComplete((reply, error) -> {
            stall.cancel(false);
            stopCounting(token);
            try {
                complete(batch, reply, error);
            } finally {
                if (hasWaiting()) { // a lone client's entry leaves nothing behind: no thread to start
                    NEXT_ENTRY_SENDERS.execute(this::sendWhatFits);
                }
            }
        });
    }

    /**
     * One thread for every batcher's stall checks. A check is cancelled when its entry completes,
     * hundreds of times a second under load; removed at once, it does not wake the thread when its
     * time comes, as a cancelled task left in the queue would.
     */
    private static ScheduledThreadPoolExecutor stallTimer() {
        final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            final Thread thread = new Thread(runnable, "herd-batch-stall-timer");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /**
     * Whether commands wait. Asked after the entry stopped counting, under the same lock as
     * {@link #submit} adds them: a command added later finds room and is sent by its submitter.
     */
    private synchronized boolean hasWaiting() {
        return !waiting.isEmpty();
    }

    /** Takes an entry out of the in-flight count; false when it was out already (stalled, released). */
    private synchronized boolean stopCounting(Object token) {
        return inFlight.remove(token);
    }

    private void complete(List<Waiting> batch, byte[] reply, Throwable error) {
        if (error != null) {
            batch.forEach(w -> w.reply().completeExceptionally(error));
            return;
        }
        if (batch.size() == 1) {
            batch.get(0).reply().complete(reply);
            return;
        }
        final List<byte[]> replies;
        try {
            replies = CommandBatch.decodeReplies(reply, batch.size());
        } catch (RuntimeException e) {
            batch.forEach(w -> w.reply().completeExceptionally(e));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            try {
                batch.get(i).reply().complete(unpackPart.apply(replies.get(i)));
            } catch (RuntimeException e) {
                batch.get(i).reply().completeExceptionally(e);
            }
        }
    }
}
