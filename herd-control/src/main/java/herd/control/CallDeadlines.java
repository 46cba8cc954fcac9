package herd.control;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounds calls that nobody waits on with a timed wait: the control plane's own requests and the
 * API's key-value requests, answered from their futures. A timer per call ({@code orTimeout})
 * wakes the JDK's timer thread to set it and to cancel it, a cost on the order of a read's own;
 * here a call only joins a map, and one sweep a second, for the whole process, fails those past
 * their deadline with a {@link TimeoutException}. A call therefore ends between its timeout and a
 * second later.
 */
public final class CallDeadlines {
    private static final long SWEEP_INTERVAL_MILLIS = 1_000;

    private record Deadline(long atNanos, Duration timeout) { }

    private static final Map<CompletableFuture<?>, Deadline> DEADLINES = new ConcurrentHashMap<>();

    static {
        final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
            final Thread thread = new Thread(runnable, "herd-call-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        sweeper.scheduleWithFixedDelay(CallDeadlines::failExpired, SWEEP_INTERVAL_MILLIS, SWEEP_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    private CallDeadlines() {
    }

    /**
     * {@code call}'s result, or a {@link TimeoutException} once {@code timeout} has passed.
     * {@code call} itself is left alone: it may be shared.
     */
    public static <T> CompletableFuture<T> bound(CompletableFuture<T> call, Duration timeout) {
        final CompletableFuture<T> bounded = call.copy();
        DEADLINES.put(bounded, new Deadline(System.nanoTime() + timeout.toNanos(), timeout));
        bounded.whenComplete((result, error) -> DEADLINES.remove(bounded));
        return bounded;
    }

    /** Whether {@code bounded}, returned by {@link #bound}, still waits for its answer or its deadline. */
    static boolean waiting(CompletableFuture<?> bounded) {
        return DEADLINES.containsKey(bounded);
    }

    private static void failExpired() {
        final long now = System.nanoTime();
        DEADLINES.forEach((call, deadline) -> {
            if (now - deadline.atNanos() >= 0) {
                call.completeExceptionally(new TimeoutException("no answer within " + deadline.timeout().toMillis() + " ms"));
            }
        });
    }
}
