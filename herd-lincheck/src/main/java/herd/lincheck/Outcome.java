package herd.lincheck;

import java.util.Objects;
import java.util.Optional;

/**
 * How an operation ended, as far as the client knows.
 *
 * <ul>
 *   <li>{@link Ok}, {@link Read}, {@link Mismatch}: the store answered; the answer is an observation
 *       the checker must explain.
 *   <li>{@link Rejected}: the store answered that it did nothing (a validation error, a 4xx). The
 *       operation had no effect and observed nothing, so the checker ignores it.
 *   <li>{@link Indeterminate}: no answer (timeout, connection lost). The operation may have taken
 *       effect at any moment after its invocation, even after the client gave up, or never.
 * </ul>
 */
public sealed interface Outcome {

    /** A put or delete that was applied, or a CAS whose comparison held and that set the new value. */
    record Ok() implements Outcome {}

    /** A get that returned {@code value} (empty: the key was absent). */
    record Read(Optional<String> value) implements Outcome {
        public Read {
            Objects.requireNonNull(value, "read value (use Optional.empty() for 'key absent')");
        }
    }

    /** A CAS whose comparison did not hold: the store saw another value and changed nothing. */
    record Mismatch() implements Outcome {}

    /** Definitely not applied. */
    record Rejected(String reason) implements Outcome {
        public Rejected {
            Objects.requireNonNull(reason, "rejection reason");
        }
    }

    /** Possibly applied, possibly not; if applied, at any time after invocation. */
    record Indeterminate(String reason) implements Outcome {
        public Indeterminate {
            Objects.requireNonNull(reason, "indeterminate reason");
        }
    }

    static Ok ok() {
        return new Ok();
    }

    static Read read(String value) {
        return new Read(Optional.of(value));
    }

    static Read readAbsent() {
        return new Read(Optional.empty());
    }

    static Mismatch mismatch() {
        return new Mismatch();
    }

    static Rejected rejected(String reason) {
        return new Rejected(reason);
    }

    static Indeterminate indeterminate(String reason) {
        return new Indeterminate(reason);
    }
}
