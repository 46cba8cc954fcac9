package herd.lincheck;

import java.util.Objects;
import java.util.Optional;

/**
 * One client call on one key, with the times (in nanoseconds, from one monotonic clock chosen by the
 * caller) at which the client sent it and saw its answer.
 *
 * <p>For an {@link Outcome.Indeterminate} operation {@code completedAtNanos} is when the client gave
 * up; it is kept for reading only: the checker treats such an operation as never completing.
 */
public record Operation(
        int clientId, String key, Action action, Outcome outcome, long invokedAtNanos, long completedAtNanos) {

    public Operation {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        if (completedAtNanos < invokedAtNanos) {
            throw new IllegalArgumentException("operation of client " + clientId + " on key " + quote(key)
                + " completed at " + completedAtNanos + " ns, before it was invoked at " + invokedAtNanos
                + " ns: take both times from the same monotonic clock (System.nanoTime)");
        }
        checkOutcomeFits(action, outcome);
    }

    /** True if the store answered that it did nothing: such an operation constrains nothing. */
    public boolean isRejected() {
        return outcome instanceof Outcome.Rejected;
    }

    public boolean isIndeterminate() {
        return outcome instanceof Outcome.Indeterminate;
    }

    /**
     * True if the checker must account for this operation: it may have changed the key, or it saw
     * the key. Rejected operations did neither; a get that got no answer saw nothing.
     */
    public boolean mattersForChecking() {
        return !isRejected() && !(action instanceof Action.Get && isIndeterminate());
    }

    /** The value this operation leaves in the key if it takes effect (empty: absent); none for a get. */
    public Optional<Optional<String>> writtenValue() {
        return switch (action) {
            case Action.Put put -> Optional.of(Optional.of(put.value()));
            case Action.Cas cas -> Optional.of(Optional.of(cas.newValue()));
            case Action.Delete delete -> Optional.of(Optional.empty());
            case Action.Get get -> Optional.empty();
        };
    }

    /** A one-line description for people, e.g. {@code client 2 get(k) -> "v3" at [500, 600] ns}. */
    public String describe() {
        String call = switch (action) {
            case Action.Put put -> "put(" + quote(key) + ", " + quote(put.value()) + ")";
            case Action.Get get -> "get(" + quote(key) + ")";
            case Action.Delete delete -> "delete(" + quote(key) + ")";
            case Action.Cas cas -> "cas(" + quote(key) + ", " + describeValue(cas.expected()) + " -> "
                + quote(cas.newValue()) + ")";
        };
        String result = switch (outcome) {
            case Outcome.Ok ok -> "ok";
            case Outcome.Read read -> "-> " + describeValue(read.value());
            case Outcome.Mismatch mismatch -> "failed: value did not match";
            case Outcome.Rejected rejected -> "rejected (" + rejected.reason() + ")";
            case Outcome.Indeterminate indeterminate -> "indeterminate (" + indeterminate.reason() + ")";
        };
        String time = isIndeterminate()
            ? "invoked at " + invokedAtNanos + " ns, never answered (gave up at " + completedAtNanos + " ns)"
            : "at " + interval();
        return "client " + clientId + " " + call + " " + result + " " + time;
    }

    /** {@code [invoked, completed] ns}, for messages. */
    public String interval() {
        return "[" + invokedAtNanos + ", " + completedAtNanos + "] ns";
    }

    static String describeValue(Optional<String> value) {
        return value.map(Operation::quote).orElse("absent");
    }

    static String quote(String text) {
        return HistoryFormat.quote(text);
    }

    private static void checkOutcomeFits(Action action, Outcome outcome) {
        boolean fits = switch (outcome) {
            case Outcome.Rejected rejected -> true;
            case Outcome.Indeterminate indeterminate -> true;
            case Outcome.Read read -> action instanceof Action.Get;
            case Outcome.Ok ok -> !(action instanceof Action.Get);
            case Outcome.Mismatch mismatch -> action instanceof Action.Cas;
        };
        if (!fits) {
            throw new IllegalArgumentException("outcome " + outcome + " does not fit action " + action
                + ": a get ends in Read, a put or delete in Ok, a cas in Ok or Mismatch;"
                + " any of them may be Rejected or Indeterminate");
        }
    }
}
