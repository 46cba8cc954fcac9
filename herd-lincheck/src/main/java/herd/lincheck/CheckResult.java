package herd.lincheck;

import java.util.List;
import java.util.Objects;

/** What the checker concluded about a history. */
public sealed interface CheckResult {

    /** A multi-line text for a test failure message or a log. */
    String report();

    default boolean isLinearizable() {
        return this instanceof Linearizable;
    }

    /** Every key's operations can be put in one order that respects real time and register semantics. */
    record Linearizable(int keys, int operations, long searchSteps) implements CheckResult {
        @Override
        public String report() {
            return "linearizable: " + operations + " operations on " + keys + " keys (" + searchSteps
                + " search steps)";
        }
    }

    /**
     * The operations on {@code key} cannot be linearized.
     *
     * @param operations a small set of that key's operations that is already not linearizable on its
     *     own (removing any one of them makes it linearizable, unless {@code explanation} says it was
     *     not fully minimized), in invocation order
     * @param explanation one or two sentences saying why, in terms of those operations
     */
    record Violation(String key, List<Operation> operations, String explanation) implements CheckResult {
        public Violation {
            Objects.requireNonNull(key, "key");
            operations = List.copyOf(operations);
            Objects.requireNonNull(explanation, "explanation");
        }

        @Override
        public String report() {
            StringBuilder text = new StringBuilder("not linearizable: key ").append(HistoryFormat.quote(key))
                .append(": ").append(explanation).append("\noperations involved:");
            for (Operation operation : operations) {
                text.append("\n  ").append(operation.describe());
            }
            return text.toString();
        }
    }

    /** The search for {@code key} ran out of its step budget: neither a linearization nor a proof. */
    record Unknown(String key, long searchSteps, String reason) implements CheckResult {
        @Override
        public String report() {
            return "unknown: key " + HistoryFormat.quote(key) + ": " + reason;
        }
    }
}
