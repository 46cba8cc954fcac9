package herd.lincheck;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns "not linearizable" into something a person can act on: a handful of operations that show
 * the violation, and a sentence about them.
 *
 * <p>Care is needed, because linearizability is not preserved by removing operations: drop the
 * delete from "put v1; delete; cas(absent -> v2) ok" and a fine history looks broken. So the
 * explanation is built only with changes that can never turn a linearizable history into a
 * non-linearizable one; whatever is still not linearizable after them really shows the fault:
 * <ul>
 *   <li>cutting the history at a time T: operations answered by T stay, writes still pending at T
 *       become "possibly applied", reads still pending and everything invoked later go;
 *   <li>dropping an operation that only reads (a get, a CAS that did not match);
 *   <li>turning an answered write into a "possibly applied" one (a relaxation: any order that worked
 *       before still works, with the write taking effect where it did).
 * </ul>
 * First the shortest failing cut is found (the failure is monotone in T, so by bisection); the
 * operations answered at that cut are the culprits. Then everything except a culprit, one other
 * operation and the writes of what they saw is relaxed; if that still fails it is the explanation,
 * otherwise delta debugging relaxes chunks of operations while the history keeps failing.
 */
final class ViolationExplainer {

    private ViolationExplainer() {}

    /** A get (or successful CAS) that saw a value no operation on the key ever wrote. */
    static Optional<CheckResult.Violation> readOfUnwrittenValue(String key, List<Operation> operations) {
        List<Operation> relevant = relevant(operations);
        Set<String> written = writtenValues(relevant);
        for (Operation operation : relevant) {
            Optional<String> seen = observedValue(operation);
            if (seen.isPresent() && !written.contains(seen.get())) {
                return Optional.of(new CheckResult.Violation(key, List.of(operation), kindOf(operation) + " at "
                    + operation.interval() + " " + verbFor(operation) + " " + HistoryFormat.quote(seen.get())
                    + ", but no operation on this key ever wrote that value"));
            }
        }
        return Optional.empty();
    }

    /** Finds a few operations that show why {@code operations} (known not linearizable) are not. */
    static CheckResult.Violation explain(String key, List<Operation> operations, long budgetSteps) {
        Shrinker shrinker = new Shrinker(budgetSteps);
        List<Operation> relevant = relevant(operations);
        Cut cut = shrinker.earliestFailingCut(relevant);
        List<Operation> core = cut.operations();
        for (Operation culprit : cut.culprits()) {
            Optional<List<Operation>> small = shrinker.smallCoreAround(culprit, cut.operations());
            if (small.isPresent()) {
                core = small.get();
                break;
            }
        }
        core = shrinker.relaxChunks(core);
        // Show the originals: a relaxed write is still a real, answered write; the sentence may cite it.
        List<Operation> shown = new ArrayList<>(RegisterSearch.neededOperations(core).stream()
            .map(shrinker::original).toList());
        addWritersFromLaterOn(shown, relevant);
        shown.sort(Comparator.comparingLong(Operation::invokedAtNanos).thenComparingLong(Operation::completedAtNanos));
        String explanation = sentenceFor(shown);
        if (shrinker.mayNotBeMinimal) {
            explanation += " (some smaller sets were too costly to check: these " + shown.size()
                + " operations may include some that are not needed)";
        }
        return new CheckResult.Violation(key, shown, explanation);
    }

    /**
     * A value seen before anyone was asked to write it is explained by the cut alone; the write
     * that came later makes the explanation readable.
     */
    private static void addWritersFromLaterOn(List<Operation> shown, List<Operation> relevant) {
        Set<String> written = writtenValues(shown);
        Set<String> missing = new HashSet<>();
        shown.forEach(op -> observedValue(op).filter(value -> !written.contains(value)).ifPresent(missing::add));
        relevant.stream().filter(op -> op.writtenValue().flatMap(value -> value).map(missing::contains).orElse(false))
            .forEach(shown::add);
    }

    /** A cut of the history at some time, and the answered operations whose answer came exactly then. */
    private record Cut(List<Operation> operations, List<Operation> culprits) {}

    /** Applies the sound changes above, counting search steps against one budget. */
    private static final class Shrinker {
        private static final long MAX_STEPS_PER_ATTEMPT = 200_000;

        private long remainingSteps;
        boolean mayNotBeMinimal;
        /** Relaxed copy -> the operation it was made from, and back. */
        private final Map<Operation, Operation> originals = new IdentityHashMap<>();
        private final Map<Operation, Operation> relaxedCopies = new IdentityHashMap<>();

        Shrinker(long budgetSteps) {
            this.remainingSteps = budgetSteps;
        }

        boolean ranOutOfBudget() {
            return remainingSteps <= 0;
        }

        Operation original(Operation operation) {
            return originals.getOrDefault(operation, operation);
        }

        Cut earliestFailingCut(List<Operation> relevant) {
            long[] times = relevant.stream().filter(op -> !op.isIndeterminate())
                .mapToLong(Operation::completedAtNanos).distinct().sorted().toArray();
            int low = 0;
            int high = times.length - 1;
            if (high < 0 || !stillFails(cutAt(relevant, times[high]))) {
                return new Cut(relevant, List.of());
            }
            while (low < high) {
                int middle = (low + high) >>> 1;
                if (stillFails(cutAt(relevant, times[middle]))) {
                    high = middle;
                } else {
                    low = middle + 1;
                }
            }
            long time = times[low];
            List<Operation> culprits = relevant.stream()
                .filter(op -> !op.isIndeterminate() && op.completedAtNanos() == time).toList();
            return new Cut(cutAt(relevant, time), culprits);
        }

        /** The history as far as it is known at {@code time}. */
        private List<Operation> cutAt(List<Operation> relevant, long time) {
            List<Operation> cut = new ArrayList<>();
            for (Operation op : relevant) {
                if (op.invokedAtNanos() > time) {
                    continue;
                }
                if (op.isIndeterminate() || op.completedAtNanos() <= time) {
                    cut.add(op);
                } else {
                    relaxed(op).ifPresent(cut::add);
                }
            }
            return cut;
        }

        /**
         * The least that must stay answered: the culprit, one other operation, and the writes of
         * what those two saw. Tries each other operation in turn.
         */
        Optional<List<Operation>> smallCoreAround(Operation culprit, List<Operation> operations) {
            Set<Operation> keep = withWritersOfWhatTheySaw(List.of(culprit), operations);
            if (stillFails(relaxAllBut(keep, operations))) {
                return Optional.of(relaxAllBut(keep, operations));
            }
            for (Operation other : likeliestPartnersFirst(culprit, keep, operations)) {
                if (keep.contains(other) || other.isIndeterminate()) {
                    continue;
                }
                Set<Operation> pair = withWritersOfWhatTheySaw(List.of(culprit, other), operations);
                List<Operation> candidate = relaxAllBut(pair, operations);
                if (stillFails(candidate)) {
                    return Optional.of(candidate);
                }
            }
            return Optional.empty();
        }

        /**
         * Answered writes that completed before the culprit began come first, earliest first after
         * the writes of what the culprit saw: the classic partner is the write a stale read missed.
         */
        private static List<Operation> likeliestPartnersFirst(
                Operation culprit, Set<Operation> keep, List<Operation> operations) {
            long seenValueWrittenBy = keep.stream().filter(op -> op != culprit && !op.isIndeterminate())
                .mapToLong(Operation::completedAtNanos).max().orElse(Long.MIN_VALUE);
            List<Operation> ordered = new ArrayList<>(operations);
            ordered.sort(Comparator.comparing((Operation op) -> !(op.writtenValue().isPresent()
                    && op.completedAtNanos() < culprit.invokedAtNanos()
                    && op.invokedAtNanos() > seenValueWrittenBy))
                .thenComparingLong(Operation::invokedAtNanos));
            return ordered;
        }

        /** Delta debugging: relax ever smaller chunks of answered operations while the history keeps failing. */
        List<Operation> relaxChunks(List<Operation> operations) {
            List<Operation> current = new ArrayList<>(operations);
            int answered = (int) current.stream().filter(op -> !op.isIndeterminate()).count();
            for (int chunk = Math.max(1, answered / 2); chunk >= 1 && !ranOutOfBudget(); chunk /= 2) {
                int skip = 0;
                while (!ranOutOfBudget()) {
                    List<Operation> candidate = relaxChunk(current, skip, chunk);
                    if (candidate == null) {
                        break;
                    }
                    if (stillFails(candidate)) {
                        current = candidate;
                    } else {
                        skip += chunk;
                    }
                }
            }
            return current;
        }

        /** Relaxes answered operations number skip .. skip+chunk-1; null if there are not that many. */
        private List<Operation> relaxChunk(List<Operation> operations, int skip, int chunk) {
            List<Operation> result = new ArrayList<>();
            int answeredSeen = 0;
            for (Operation op : operations) {
                if (!op.isIndeterminate() && answeredSeen++ >= skip && answeredSeen <= skip + chunk) {
                    relaxed(op).ifPresent(result::add);
                } else {
                    result.add(op);
                }
            }
            return answeredSeen <= skip ? null : result;
        }

        private List<Operation> relaxAllBut(Set<Operation> keep, List<Operation> operations) {
            List<Operation> result = new ArrayList<>();
            for (Operation op : operations) {
                if (keep.contains(op)) {
                    result.add(op);
                } else {
                    relaxed(op).ifPresent(result::add);
                }
            }
            return result;
        }

        /**
         * A read-only operation goes; a write becomes "possibly applied, at any time after
         * invocation". A CAS becomes a possibly-applied put of its new value: that allows everything
         * the CAS allowed (where it would not match, the put may simply never apply), and it no
         * longer counts as observing its expected value, which lets the search drop it.
         */
        private Optional<Operation> relaxed(Operation op) {
            boolean readOnly = op.action() instanceof Action.Get || op.outcome() instanceof Outcome.Mismatch;
            if (readOnly) {
                return Optional.empty();
            }
            return Optional.of(relaxedCopies.computeIfAbsent(original(op), original -> {
                Action action = original.action() instanceof Action.Cas cas ? Action.put(cas.newValue()) : original.action();
                Operation relaxed = new Operation(original.clientId(), original.key(), action,
                    Outcome.indeterminate("answered, but not needed as answered to show the violation"),
                    original.invokedAtNanos(), original.completedAtNanos());
                originals.put(relaxed, original);
                return relaxed;
            }));
        }

        /**
         * True if the search proves the candidate is not linearizable. A search that needs more than
         * {@link #MAX_STEPS_PER_ATTEMPT} steps counts as "not shown": the explanation then stays a
         * little larger, never wrong.
         */
        private boolean stillFails(List<Operation> candidate) {
            if (ranOutOfBudget()) {
                mayNotBeMinimal = true;
                return false;
            }
            RegisterSearch.Result result = RegisterSearch.search(candidate, Math.min(remainingSteps, MAX_STEPS_PER_ATTEMPT));
            remainingSteps -= result.steps();
            if (result.verdict() == RegisterSearch.Verdict.BUDGET_EXCEEDED) {
                mayNotBeMinimal = true;
            }
            return result.verdict() == RegisterSearch.Verdict.NOT_LINEARIZABLE;
        }
    }

    /** {@code chosen} plus every answered operation in {@code all} that writes a value one of them saw. */
    private static Set<Operation> withWritersOfWhatTheySaw(List<Operation> chosen, List<Operation> all) {
        Set<String> seen = new HashSet<>();
        chosen.forEach(op -> observedValue(op).ifPresent(seen::add));
        Set<Operation> result = Collections.newSetFromMap(new IdentityHashMap<>());
        result.addAll(chosen);
        for (Operation operation : all) {
            if (operation.writtenValue().flatMap(value -> value).map(seen::contains).orElse(false)) {
                result.add(operation);
            }
        }
        return result;
    }

    private static String sentenceFor(List<Operation> core) {
        return overwrittenBeforeObserved(core)
            .or(() -> writtenOnlyAfterObserved(core))
            .or(() -> mismatchRightAfterWrite(core))
            .orElse("no order of these " + core.size() + " operations agrees with both their real-time order"
                + " and the behaviour of a single register");
    }

    /** A stale read, a lost write, or a CAS against an overwritten value. */
    private static Optional<String> overwrittenBeforeObserved(List<Operation> core) {
        for (Operation observer : core) {
            Optional<Optional<String>> seen = fullObservedValue(observer);
            if (seen.isEmpty() || observer.isIndeterminate()) {
                continue;
            }
            for (Operation overwrite : core) {
                if (overwrite == observer || overwrite.isIndeterminate() || !changesValue(overwrite)
                        || overwrite.completedAtNanos() >= observer.invokedAtNanos()
                        || overwrite.writtenValue().orElseThrow().equals(seen.get())) {
                    continue;
                }
                Optional<String> history = earlierWriteOf(core, seen.get(), overwrite, observer);
                if (history.isPresent()) {
                    return Optional.of(kindOf(observer) + " at " + observer.interval() + " " + verbFor(observer)
                        + " " + Operation.describeValue(seen.get()) + ", but " + whatWasWritten(overwrite) + " at "
                        + overwrite.interval() + " and completed before the " + kindOf(observer) + " began"
                        + " (" + history.get() + ")");
                }
            }
        }
        return Optional.empty();
    }

    /**
     * How the observed value came to be in the key before {@code overwrite}: a phrase naming the last
     * write of it (or saying the key started absent). Empty unless every write of that value
     * completed before {@code overwrite} began, i.e. unless the value is certainly gone.
     */
    private static Optional<String> earlierWriteOf(
            List<Operation> core, Optional<String> value, Operation overwrite, Operation observer) {
        List<Operation> writers = core.stream().filter(op -> op != observer && op.writtenValue().isPresent()
            && op.writtenValue().get().equals(value)).toList();
        if (value.isEmpty() && writers.isEmpty()) {
            return Optional.of("the key started absent and was never deleted");
        }
        boolean allBeforeOverwrite = writers.stream().allMatch(writer -> !writer.isIndeterminate()
            && writer.completedAtNanos() < overwrite.invokedAtNanos());
        if (writers.isEmpty() || !allBeforeOverwrite) {
            return Optional.empty();
        }
        Operation last = writers.stream().max(Comparator.comparingLong(Operation::completedAtNanos)).orElseThrow();
        return Optional.of(Operation.describeValue(value) + " was written earlier, at " + last.interval());
    }

    /** A read of a value whose every write began after the read had already answered. */
    private static Optional<String> writtenOnlyAfterObserved(List<Operation> core) {
        for (Operation observer : core) {
            Optional<String> seen = observedValue(observer);
            if (seen.isEmpty()) {
                continue;
            }
            List<Operation> writers = core.stream().filter(op -> op != observer
                && op.writtenValue().equals(Optional.of(seen))).toList();
            if (!writers.isEmpty() && writers.stream().allMatch(w -> w.invokedAtNanos() > observer.completedAtNanos())) {
                return Optional.of(kindOf(observer) + " at " + observer.interval() + " " + verbFor(observer) + " "
                    + HistoryFormat.quote(seen.get()) + ", but that value was written only at "
                    + writers.get(0).interval() + ", which began after the " + kindOf(observer) + " completed");
            }
        }
        return Optional.empty();
    }

    /** A CAS that failed although the value it expected was written just before and nothing else was. */
    private static Optional<String> mismatchRightAfterWrite(List<Operation> core) {
        for (Operation cas : core) {
            if (!(cas.outcome() instanceof Outcome.Mismatch) || !(cas.action() instanceof Action.Cas action)) {
                continue;
            }
            List<Operation> writes = core.stream().filter(op -> op != cas && changesValue(op)).toList();
            boolean onlyTheExpectedValue = writes.stream()
                .allMatch(w -> w.writtenValue().orElseThrow().equals(action.expected()));
            if (onlyTheExpectedValue) {
                String origin = writes.isEmpty() ? "the key was absent and nothing wrote it"
                    : Operation.describeValue(action.expected()) + " was written at " + writes.get(0).interval()
                        + " and nothing else was written";
                return Optional.of("cas at " + cas.interval() + " failed to match "
                    + Operation.describeValue(action.expected()) + ", but " + origin);
            }
        }
        return Optional.empty();
    }

    private static List<Operation> relevant(List<Operation> operations) {
        return operations.stream().filter(Operation::mattersForChecking).toList();
    }

    private static Set<String> writtenValues(List<Operation> operations) {
        Set<String> written = new HashSet<>();
        for (Operation operation : operations) {
            operation.writtenValue().flatMap(value -> value).ifPresent(written::add);
        }
        return written;
    }

    /** The present value a get returned or a successful CAS compared against. */
    private static Optional<String> observedValue(Operation operation) {
        return fullObservedValue(operation).flatMap(value -> value);
    }

    /** What an answered get or successful CAS saw, absent included; empty if it saw nothing definite. */
    private static Optional<Optional<String>> fullObservedValue(Operation operation) {
        if (operation.outcome() instanceof Outcome.Read read) {
            return Optional.of(read.value());
        }
        if (operation.outcome() instanceof Outcome.Ok && operation.action() instanceof Action.Cas cas) {
            return Optional.of(cas.expected());
        }
        return Optional.empty();
    }

    private static boolean changesValue(Operation operation) {
        return operation.writtenValue().isPresent()
            && !(operation.outcome() instanceof Outcome.Mismatch);
    }

    private static String whatWasWritten(Operation write) {
        Optional<String> value = write.writtenValue().orElseThrow();
        return value.isEmpty() ? "the key was deleted" : HistoryFormat.quote(value.get()) + " was written";
    }

    private static String verbFor(Operation observer) {
        return observer.action() instanceof Action.Get ? "returned" : "succeeded comparing against";
    }

    private static String kindOf(Operation operation) {
        return switch (operation.action()) {
            case Action.Put put -> "put";
            case Action.Get get -> "get";
            case Action.Delete delete -> "delete";
            case Action.Cas cas -> "cas";
        };
    }
}
