package herd.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounds the calls to the control plane that nobody waits on with a timed wait (the API's
 * key-value requests, answered from their futures). A timer per call ({@code orTimeout}) would wake
 * the JDK's timer thread twice per call, to set it and to cancel it, a cost on the order of the
 * call's own; here a call only joins a map, and one sweep a second fails those past their deadline
 * with a {@link TimeoutException}. A call therefore ends between its timeout and a second later.
 */
final class CallDeadlines {
    private static final long SWEEP_INTERVAL_MILLIS = 1_000;

    private final long timeoutNanos;
    private final Map<CompletableFuture<?>, Long> deadlines = new ConcurrentHashMap<>();

    CallDeadlines(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "herd-call-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        sweeper.scheduleWithFixedDelay(this::failExpired, SWEEP_INTERVAL_MILLIS, SWEEP_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * {@code call}'s result, or a {@link TimeoutException} once the timeout has passed. {@code call}
     * itself is left alone: it may be shared.
     */
    <T> CompletableFuture<T> bound(CompletableFuture<T> call) {
        CompletableFuture<T> bounded = call.copy();
        deadlines.put(bounded, System.nanoTime() + timeoutNanos);
        bounded.whenComplete((result, error) -> deadlines.remove(bounded));
        return bounded;
    }

    /** Calls waiting now. */
    int pending() {
        return deadlines.size();
    }

    private void failExpired() {
        long now = System.nanoTime();
        deadlines.forEach((call, deadline) -> {
            if (now - deadline >= 0) {
                call.completeExceptionally(new TimeoutException("no answer within " + Duration.ofNanos(timeoutNanos).toSeconds() + " s"));
            }
        });
    }
}
