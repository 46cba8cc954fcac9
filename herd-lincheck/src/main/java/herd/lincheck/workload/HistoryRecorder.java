package herd.lincheck.workload;

import herd.lincheck.Action;
import herd.lincheck.History;
import herd.lincheck.Operation;
import herd.lincheck.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Records operations from many threads. Invocation time is taken just before a call and completion
 * time just after it, from one monotonic clock, so every operation's real interval lies inside the
 * recorded one. Calls still running when the history is taken are recorded as indeterminate.
 */
public final class HistoryRecorder {

    private record Pending(int clientId, String key, Action action, long invokedAtNanos) {}

    private final LongSupplier nanoClock;
    private final Object lock = new Object();
    private long nextCallId;
    /** Guarded by lock, like finished: a call moves from one to the other atomically. */
    private final Map<Long, Pending> inFlight = new HashMap<>();
    private final List<Operation> finished = new ArrayList<>();

    /** @param nanoClock a monotonic clock in nanoseconds, normally {@code System::nanoTime} */
    public HistoryRecorder(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /**
     * Runs {@code call} and records it. A {@link KvClient.RejectedException} records "rejected", any
     * other exception "indeterminate"; neither is thrown on. An interrupt is recorded as
     * indeterminate and the thread's interrupt flag is set again.
     *
     * @param outcomeOf what the call's result means for the checker
     * @return the call's result, or empty if it threw
     */
    public <T> Optional<T> record(
            int clientId, String key, Action action, Callable<T> call, Function<T, Outcome> outcomeOf) {
        long callId = begin(new Pending(clientId, key, action, nanoClock.getAsLong()));
        try {
            T result = call.call();
            finish(callId, outcomeOf.apply(result));
            return Optional.of(result);
        } catch (KvClient.RejectedException e) {
            finish(callId, Outcome.rejected(describe(e)));
        } catch (InterruptedException e) {
            finish(callId, Outcome.indeterminate("interrupted while waiting for the answer"));
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            finish(callId, Outcome.indeterminate(describe(e)));
        }
        return Optional.empty();
    }

    /** Everything recorded so far; calls still running count as indeterminate, given up now. */
    public History history() {
        synchronized (lock) {
            long now = nanoClock.getAsLong();
            List<Operation> operations = new ArrayList<>(finished);
            for (Pending pending : inFlight.values()) {
                operations.add(new Operation(pending.clientId(), pending.key(), pending.action(),
                    Outcome.indeterminate("still running when the history was taken"), pending.invokedAtNanos(),
                    Math.max(now, pending.invokedAtNanos())));
            }
            return new History(operations);
        }
    }

    private long begin(Pending pending) {
        synchronized (lock) {
            long callId = nextCallId++;
            inFlight.put(callId, pending);
            return callId;
        }
    }

    private void finish(long callId, Outcome outcome) {
        long completedAtNanos = nanoClock.getAsLong();
        synchronized (lock) {
            Pending pending = inFlight.remove(callId);
            finished.add(new Operation(pending.clientId(), pending.key(), pending.action(), outcome,
                pending.invokedAtNanos(), completedAtNanos));
        }
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
