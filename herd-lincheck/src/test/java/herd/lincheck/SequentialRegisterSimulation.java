package herd.lincheck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds histories that are linearizable by construction: each client runs its operations one
 * after another, each operation takes effect at one instant (its linearization point) inside its
 * interval, and results come from a real sequential register per key, applied in point order.
 */
final class SequentialRegisterSimulation {

    enum Kind { PUT, GET, CAS, DELETE }

    /** What happened to an operation. */
    enum Fate {
        ANSWERED,
        /** No answer, but it took effect: possibly long after the client gave up. */
        TOOK_EFFECT_UNANSWERED,
        /** No answer and it never took effect. */
        LOST_UNANSWERED,
        REJECTED
    }

    /**
     * @param gapNanos time between the client's previous answer and this invocation
     * @param pointPermille where in its interval the operation takes effect (0..1000); for an
     *     unanswered operation that takes effect the range is stretched 4x, past the time the client
     *     gave up
     * @param casMatches whether a CAS compares against the current value (else against another one)
     */
    record Step(int client, int key, Kind kind, long gapNanos, long durationNanos, int pointPermille, Fate fate,
                boolean casMatches) {}

    private record Timed(Step step, int index, long invoked, long completed, long point) {}

    private SequentialRegisterSimulation() {}

    static History run(List<Step> steps) {
        List<Timed> timed = assignTimes(steps);
        List<Timed> byPoint = new ArrayList<>(timed);
        byPoint.sort(Comparator.comparingLong(Timed::point).thenComparingInt(Timed::index));
        Map<String, Optional<String>> register = new HashMap<>();
        Map<String, List<String>> written = new HashMap<>();
        Operation[] operations = new Operation[timed.size()];
        for (Timed op : byPoint) {
            operations[op.index()] = apply(op, register, written);
        }
        return new History(List.of(operations));
    }

    private static List<Timed> assignTimes(List<Step> steps) {
        Map<Integer, Long> clientClock = new HashMap<>();
        List<Timed> timed = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            long invoked = clientClock.getOrDefault(step.client(), 0L) + step.gapNanos();
            long completed = invoked + Math.max(1, step.durationNanos());
            // An unanswered operation may take effect after the client gave up: stretch its range 4x.
            long stretch = step.fate() == Fate.TOOK_EFFECT_UNANSWERED ? 4 : 1;
            long point = invoked + (completed - invoked) * step.pointPermille() * stretch / 1000;
            clientClock.put(step.client(), completed);
            timed.add(new Timed(step, i, invoked, completed, point));
        }
        return timed;
    }

    private static Operation apply(Timed op, Map<String, Optional<String>> register, Map<String, List<String>> written) {
        Step step = op.step();
        String key = "key" + step.key();
        String value = "v" + op.index();
        Optional<String> current = register.getOrDefault(key, Optional.empty());
        boolean takesEffect = step.fate() == Fate.ANSWERED || step.fate() == Fate.TOOK_EFFECT_UNANSWERED;
        Action action;
        Outcome result;
        switch (step.kind()) {
            case PUT -> {
                action = Action.put(value);
                result = Outcome.ok();
                if (takesEffect) {
                    register.put(key, Optional.of(value));
                    written.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                }
            }
            case DELETE -> {
                action = Action.delete();
                result = Outcome.ok();
                if (takesEffect) {
                    register.put(key, Optional.empty());
                }
            }
            case GET -> {
                action = Action.get();
                result = new Outcome.Read(current);
            }
            case CAS -> {
                Optional<String> expected = step.casMatches() ? current : otherThan(current, written.get(key));
                action = new Action.Cas(expected, value);
                boolean matches = expected.equals(current);
                result = matches ? Outcome.ok() : Outcome.mismatch();
                if (takesEffect && matches) {
                    register.put(key, Optional.of(value));
                    written.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                }
            }
            default -> throw new IllegalStateException();
        }
        Outcome outcome = switch (step.fate()) {
            case ANSWERED -> result;
            case TOOK_EFFECT_UNANSWERED, LOST_UNANSWERED -> Outcome.indeterminate("simulated timeout");
            case REJECTED -> Outcome.rejected("simulated 400");
        };
        return new Operation(step.client(), key, action, outcome, op.invoked(), op.completed());
    }

    private static Optional<String> otherThan(Optional<String> current, List<String> written) {
        if (current.isPresent()) {
            return written.size() >= 2 ? Optional.of(written.get(0)).filter(v -> !v.equals(current.get()))
                .or(() -> Optional.empty()) : Optional.empty();
        }
        return written == null || written.isEmpty() ? Optional.of("never-written") : Optional.of(written.get(0));
    }
}
