package herd.lincheck;

import java.util.List;
import java.util.Map;

/**
 * Checks that a key-value history is linearizable: that every key behaves as a single register
 * (initially absent) whose operations each took effect at one instant between invocation and answer.
 *
 * <p>Keys are independent registers, so each key is checked on its own (linearizability is
 * compositional). Each check is bounded by a number of search steps; a key whose search runs out
 * yields {@link CheckResult.Unknown} instead of hanging.
 *
 * <p>Timing: operations whose intervals touch (one's answer time equals another's invocation time)
 * count as concurrent, the lenient reading of a clock that cannot order them.
 */
public final class LinearizabilityChecker {

    /**
     * A linearizable history takes about 3 steps per operation at the concurrency of a test (10,000
     * operations with 10 clients: ~30,000 steps), so this leaves ample room; proving a violation
     * amid many indeterminate operations can take exponentially many, and this bounds that to
     * seconds.
     */
    public static final long DEFAULT_MAX_STEPS_PER_KEY = 2_000_000L;

    private final long maxStepsPerKey;

    public LinearizabilityChecker() {
        this(DEFAULT_MAX_STEPS_PER_KEY);
    }

    /**
     * @param maxStepsPerKey how many search steps one key may take (and again as much to shrink a
     *     violation to a few operations) before the checker gives up with "unknown"
     */
    public LinearizabilityChecker(long maxStepsPerKey) {
        if (maxStepsPerKey <= 0) {
            throw new IllegalArgumentException("maxStepsPerKey is " + maxStepsPerKey
                + ": give a positive number of search steps, e.g. " + DEFAULT_MAX_STEPS_PER_KEY);
        }
        this.maxStepsPerKey = maxStepsPerKey;
    }

    /** The first violating key in key order, else the first undecided key, else linearizable. */
    public CheckResult check(History history) {
        long totalSteps = 0;
        CheckResult.Unknown firstUnknown = null;
        Map<String, List<Operation>> byKey = history.byKey();
        for (Map.Entry<String, List<Operation>> entry : byKey.entrySet()) {
            CheckResult result = checkKey(entry.getKey(), entry.getValue());
            switch (result) {
                case CheckResult.Violation violation -> {
                    return violation;
                }
                case CheckResult.Unknown unknown -> {
                    if (firstUnknown == null) {
                        firstUnknown = unknown;
                    }
                    totalSteps += unknown.searchSteps();
                }
                case CheckResult.Linearizable linearizable -> totalSteps += linearizable.searchSteps();
            }
        }
        return firstUnknown != null ? firstUnknown
            : new CheckResult.Linearizable(byKey.size(), history.size(), totalSteps);
    }

    /** Checks the operations of one key; each must be on {@code key}. */
    public CheckResult checkKey(String key, List<Operation> operations) {
        for (Operation operation : operations) {
            if (!operation.key().equals(key)) {
                throw new IllegalArgumentException("checkKey(" + HistoryFormat.quote(key) + ") was given an operation on key "
                    + HistoryFormat.quote(operation.key()) + ": group operations by key first (History.byKey)");
            }
        }
        var unwritten = ViolationExplainer.readOfUnwrittenValue(key, operations);
        if (unwritten.isPresent()) {
            return unwritten.get();
        }
        RegisterSearch.Result result = RegisterSearch.search(operations, maxStepsPerKey);
        return switch (result.verdict()) {
            case LINEARIZABLE -> new CheckResult.Linearizable(1, operations.size(), result.steps());
            case BUDGET_EXCEEDED -> new CheckResult.Unknown(key, result.steps(), "the search took more than "
                + maxStepsPerKey + " steps on " + operations.size() + " operations without deciding;"
                + " give the checker a larger maxStepsPerKey, or record a shorter or less concurrent history");
            case NOT_LINEARIZABLE -> ViolationExplainer.explain(key, operations, maxStepsPerKey);
        };
    }
}
