package herd.lincheck;

import java.util.List;
import java.util.Optional;

/**
 * The definition of linearizability, checked by trying every order: an independent oracle for small
 * histories (a handful of operations) to test the real search against.
 */
final class BruteForceRegister {

    private BruteForceRegister() {}

    static boolean isLinearizable(List<Operation> operations) {
        List<Operation> relevant = operations.stream().filter(Operation::mattersForChecking).toList();
        return extend(relevant, new boolean[relevant.size()], Optional.empty());
    }

    private static boolean extend(List<Operation> ops, boolean[] placed, Optional<String> state) {
        boolean allAnsweredPlaced = true;
        for (int i = 0; i < ops.size(); i++) {
            allAnsweredPlaced &= placed[i] || ops.get(i).isIndeterminate();
        }
        if (allAnsweredPlaced) {
            return true;
        }
        for (int i = 0; i < ops.size(); i++) {
            if (placed[i] || mustWaitForAnother(ops, placed, i)) {
                continue;
            }
            Operation op = ops.get(i);
            placed[i] = true;
            Optional<Optional<String>> next = apply(state, op);
            boolean found = next.isPresent() && extend(ops, placed, next.get())
                // An unanswered operation may also never take effect.
                || op.isIndeterminate() && extend(ops, placed, state);
            placed[i] = false;
            if (found) {
                return true;
            }
        }
        return false;
    }

    /** An operation cannot go next while another unplaced one was answered before it was invoked. */
    private static boolean mustWaitForAnother(List<Operation> ops, boolean[] placed, int candidate) {
        for (int j = 0; j < ops.size(); j++) {
            if (j != candidate && !placed[j] && !ops.get(j).isIndeterminate()
                    && ops.get(j).completedAtNanos() < ops.get(candidate).invokedAtNanos()) {
                return true;
            }
        }
        return false;
    }

    /** The register's state after {@code op}, or empty if {@code op} cannot happen in {@code state}. */
    private static Optional<Optional<String>> apply(Optional<String> state, Operation op) {
        return switch (op.action()) {
            case Action.Put put -> Optional.of(Optional.of(put.value()));
            case Action.Delete delete -> Optional.of(Optional.empty());
            case Action.Get get -> ((Outcome.Read) op.outcome()).value().equals(state)
                ? Optional.of(state) : Optional.empty();
            case Action.Cas cas -> {
                boolean matches = cas.expected().equals(state);
                Optional<String> swapped = Optional.of(cas.newValue());
                yield switch (op.outcome()) {
                    case Outcome.Ok ok -> matches ? Optional.of(swapped) : Optional.empty();
                    case Outcome.Mismatch mismatch -> matches ? Optional.empty() : Optional.of(state);
                    case Outcome.Indeterminate unknown -> Optional.of(matches ? swapped : state);
                    default -> throw new IllegalStateException("unexpected outcome " + op.outcome());
                };
            }
        };
    }
}
