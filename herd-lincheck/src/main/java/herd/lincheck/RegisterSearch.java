package herd.lincheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether the operations on one key are linearizable with respect to a single register that
 * starts absent.
 *
 * <p>This is Wing and Gong's search with Lowe's improvements ("Testing for linearizability", 2017),
 * in the form Porcupine uses:
 * <ul>
 *   <li>the answered operations are a doubly linked list of call and return events in time order;
 *   <li>walking it, a call is "linearized" (taken out of the list, with its return) when the register
 *       allows it in the current state; reaching a return whose call was not linearized means the
 *       choices so far were wrong, so the last choice is undone (backtracking);
 *   <li>because ops are linearized just in time, only ops that are pending at once are ever tried
 *       against each other;
 *   <li>every (set of linearized ops, register state) reached is remembered, and a choice leading to a
 *       pair already seen is skipped: from there the search already failed. Beyond Lowe, a pair is
 *       also skipped when a pair seen before had the same answered ops and state but only a subset
 *       of its indeterminate ops: those are optional, so the earlier pair could do everything this
 *       one can (without this, k unanswered deletes cost 2^k).
 * </ul>
 *
 * <p>Indeterminate operations are not in the list: nothing forces them to be linearized, and the
 * search succeeds once every answered operation is linearized. They are brought in on demand, just
 * before an operation that is impossible without them (see {@link #run}).
 *
 * <p>Steps (the unit of the budget) count list positions visited and indeterminate candidates
 * tried, so a budget bounds time.
 *
 * <p>Two reductions keep the search small without changing the verdict (both are checked against the
 * plain search by a property test):
 * <ul>
 *   <li>values that no operation observes (no get returned them, no CAS compared against them) are
 *       interchangeable, so they share one state;
 *   <li>an indeterminate write of an unobserved value (a delete counts as writing "absent", which is
 *       observed when a get returned absent or a CAS expected it) is dropped unless some CAS failed,
 *       after the write's invocation, for lack of a match: after such a write, the only operation
 *       it can make possible is a failed CAS (gets and successful CASes would have to see the
 *       unobserved value), so a linearization that uses the write still works without it.
 * </ul>
 */
final class RegisterSearch {

    enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, BUDGET_EXCEEDED }

    /** The verdict and how many steps the search took to reach it. */
    record Result(Verdict verdict, long steps) {}

    private static final int ABSENT = 0;
    private static final int UNOBSERVED = 1;
    private static final int NOT_ALLOWED = -1;

    private enum Kind { WRITE, READ, CAS_OK, CAS_MISMATCH, CAS_MAYBE }

    private final Operation[] operations;
    private final Kind[] kinds;
    private final int[] expectedState;
    private final int[] writtenState;
    private final int determinateCount;
    /** Register state -> the indeterminate CASes that expect it. */
    private final Map<Integer, int[]> indeterminateCasesExpecting = new HashMap<>();
    private static final int[] NONE = new int[0];

    // The event list: entries 0..E-1 are events, HEAD and TAIL are sentinels.
    private final int[] entryOperation;
    private final boolean[] entryIsCall;
    private final int[] next;
    private final int[] prev;
    private final int[] callEntry;
    private final int[] returnEntry;
    private final int head;
    private final int tail;

    static Result search(List<Operation> operationsOfOneKey, long maxSteps) {
        return new RegisterSearch(operationsOfOneKey, true).run(maxSteps);
    }

    /** The same search without the reductions; for tests that check the reductions keep verdicts. */
    static Result searchWithoutReductions(List<Operation> operationsOfOneKey, long maxSteps) {
        return new RegisterSearch(operationsOfOneKey, false).run(maxSteps);
    }

    private RegisterSearch(List<Operation> operationsOfOneKey, boolean reduce) {
        List<Operation> relevant = operationsOfOneKey.stream().filter(Operation::mattersForChecking).toList();
        Map<String, Integer> stateOfObservedValue = observedValues(relevant, reduce);
        List<Operation> ordered = orderDeterminateFirst(reduce ? dropUnneededIndeterminate(relevant,
            stateOfObservedValue) : relevant);
        int count = ordered.size();
        operations = ordered.toArray(Operation[]::new);
        kinds = new Kind[count];
        expectedState = new int[count];
        writtenState = new int[count];
        int determinate = 0;
        for (int i = 0; i < count; i++) {
            compile(i, stateOfObservedValue);
            if (!operations[i].isIndeterminate()) {
                determinate++;
            }
        }
        determinateCount = determinate;
        for (int i = determinateCount; i < count; i++) {
            if (kinds[i] == Kind.CAS_MAYBE) {
                int[] earlier = indeterminateCasesExpecting.getOrDefault(expectedState[i], NONE);
                int[] more = Arrays.copyOf(earlier, earlier.length + 1);
                more[earlier.length] = i;
                indeterminateCasesExpecting.put(expectedState[i], more);
            }
        }

        int entries = 2 * determinate;
        entryOperation = new int[entries];
        entryIsCall = new boolean[entries];
        next = new int[entries + 2];
        prev = new int[entries + 2];
        callEntry = new int[count];
        returnEntry = new int[count];
        head = entries;
        tail = entries + 1;
        buildEventList();
    }

    /** The operations the search actually considers: answered ones and indeterminate ones that matter. */
    static List<Operation> neededOperations(List<Operation> operationsOfOneKey) {
        List<Operation> relevant = operationsOfOneKey.stream().filter(Operation::mattersForChecking).toList();
        return dropUnneededIndeterminate(relevant, observedValues(relevant, true));
    }

    /**
     * Gives each observed value its own state; every other value maps to UNOBSERVED. Without
     * reductions every value gets its own state.
     */
    private static Map<String, Integer> observedValues(List<Operation> operations, boolean reduce) {
        Map<String, Integer> stateOf = new HashMap<>();
        for (Operation operation : operations) {
            List<Optional<String>> seen = new ArrayList<>();
            if (operation.outcome() instanceof Outcome.Read read) {
                seen.add(read.value());
            }
            if (operation.action() instanceof Action.Cas cas) {
                seen.add(cas.expected());
            }
            if (!reduce) {
                operation.writtenValue().ifPresent(seen::add);
            }
            seen.stream().flatMap(Optional::stream)
                .forEach(value -> stateOf.computeIfAbsent(value, v -> stateOf.size() + 2));
        }
        return stateOf;
    }

    private static List<Operation> dropUnneededIndeterminate(
            List<Operation> operations, Map<String, Integer> stateOfObservedValue) {
        boolean absentObserved = operations.stream().anyMatch(op ->
            op.outcome() instanceof Outcome.Read read && read.value().isEmpty()
                || op.action() instanceof Action.Cas cas && cas.expected().isEmpty());
        long lastMismatchCompletion = operations.stream()
            .filter(op -> op.outcome() instanceof Outcome.Mismatch)
            .mapToLong(Operation::completedAtNanos).max().orElse(Long.MIN_VALUE);
        return operations.stream().filter(op -> {
            if (!op.isIndeterminate()) {
                return true;
            }
            Optional<String> written = op.writtenValue().orElseThrow();
            boolean writesUnobserved = written.isPresent() ? !stateOfObservedValue.containsKey(written.get())
                : !absentObserved;
            return !writesUnobserved || lastMismatchCompletion >= op.invokedAtNanos();
        }).toList();
    }

    private static List<Operation> orderDeterminateFirst(List<Operation> operations) {
        Comparator<Operation> byTime = Comparator.comparingLong(Operation::invokedAtNanos)
            .thenComparingLong(Operation::completedAtNanos);
        List<Operation> ordered = new ArrayList<>(operations.stream().filter(op -> !op.isIndeterminate())
            .sorted(byTime).toList());
        ordered.addAll(operations.stream().filter(Operation::isIndeterminate).sorted(byTime).toList());
        return ordered;
    }

    private void compile(int index, Map<String, Integer> stateOfObservedValue) {
        Operation operation = operations[index];
        Kind kind = switch (operation.action()) {
            case Action.Put put -> Kind.WRITE;
            case Action.Delete delete -> Kind.WRITE;
            case Action.Get get -> Kind.READ;
            case Action.Cas cas -> switch (operation.outcome()) {
                case Outcome.Ok ok -> Kind.CAS_OK;
                case Outcome.Mismatch mismatch -> Kind.CAS_MISMATCH;
                case Outcome.Indeterminate indeterminate -> Kind.CAS_MAYBE;
                case Outcome.Read read -> throw new IllegalStateException("a cas cannot end in Read: " + operation);
                case Outcome.Rejected rejected -> throw new IllegalStateException("rejected ops are filtered out");
            };
        };
        kinds[index] = kind;
        Optional<String> expected = switch (operation.action()) {
            case Action.Cas cas -> cas.expected();
            default -> operation.outcome() instanceof Outcome.Read read ? read.value() : Optional.empty();
        };
        expectedState[index] = stateOf(expected, stateOfObservedValue);
        writtenState[index] = operation.writtenValue().map(value -> stateOf(value, stateOfObservedValue))
            .orElse(NOT_ALLOWED);
    }

    private static int stateOf(Optional<String> value, Map<String, Integer> stateOfObservedValue) {
        return value.map(v -> stateOfObservedValue.getOrDefault(v, UNOBSERVED)).orElse(ABSENT);
    }

    /** Calls before returns at equal times: ops that touch in time count as concurrent. */
    private void buildEventList() {
        List<long[]> events = new ArrayList<>(); // {time, 0 = call / 1 = return, operation}
        for (int i = 0; i < determinateCount; i++) {
            events.add(new long[] {operations[i].invokedAtNanos(), 0, i});
            events.add(new long[] {operations[i].completedAtNanos(), 1, i});
        }
        events.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1])
            .thenComparingLong(e -> e[2]));
        Arrays.fill(callEntry, -1);
        Arrays.fill(returnEntry, -1);
        int previous = head;
        for (int entry = 0; entry < events.size(); entry++) {
            long[] event = events.get(entry);
            int operation = (int) event[2];
            entryOperation[entry] = operation;
            entryIsCall[entry] = event[1] == 0;
            if (entryIsCall[entry]) {
                callEntry[operation] = entry;
            } else {
                returnEntry[operation] = entry;
            }
            next[previous] = entry;
            prev[entry] = previous;
            previous = entry;
        }
        next[previous] = tail;
        prev[tail] = previous;
    }

    private int step(int state, int operation) {
        int expected = expectedState[operation];
        return switch (kinds[operation]) {
            case WRITE -> writtenState[operation];
            case READ -> state == expected ? state : NOT_ALLOWED;
            case CAS_OK -> state == expected ? writtenState[operation] : NOT_ALLOWED;
            case CAS_MISMATCH -> state != expected ? state : NOT_ALLOWED;
            case CAS_MAYBE -> state == expected ? writtenState[operation] : NOT_ALLOWED; // a no-op is pointless
        };
    }

    /**
     * The JIT search over answered ops, with indeterminate ops brought in on demand.
     *
     * <p>Indeterminate ops are optional and have no deadline, so they are not in the event list;
     * one is linearized only right before an op that needs it: when the cursor is at a call R that
     * is impossible in the current state, each indeterminate op P invoked early enough is tried if R
     * would be possible after P, or if P would make some indeterminate CAS match (a chain).
     *
     * <p>Nothing is lost (the search stays exact, as a property test against brute force checks):
     * any valid order can be rewritten so that every indeterminate op P is followed by an op
     * impossible without it. If the
     * op R after P were possible without P, either P did not change the state (drop P) or R does not
     * change it (move P after R, allowed since P has no deadline); an indeterminate CAS that does not
     * match changes nothing (drop it). Repeat until every P is needed. Chains work the same way: P2
     * may be an indeterminate CAS that only P1 makes match.
     *
     * <p>The memo key includes the state before the last op when that op was indeterminate, since
     * the op after it is then restricted to ops impossible in that earlier state.
     */
    private Result run(long maxSteps) {
        LinearizedSet linearized = new LinearizedSet(determinateCount, operations.length);
        LinearizedSet.Memo seen = new LinearizedSet.Memo();
        Frame[] stack = new Frame[operations.length];
        int depth = 0;
        int state = ABSENT;
        int stateBeforeIndeterminate = NOT_ALLOWED; // NOT_ALLOWED: the last op linearized was answered
        int unlinearizedDeterminate = determinateCount;
        int entry = next[head];
        int firstCandidate = determinateCount; // where to resume trying indeterminate ops at entry
        long steps = 0;
        while (unlinearizedDeterminate > 0) {
            if (++steps > maxSteps) {
                return new Result(Verdict.BUDGET_EXCEEDED, steps - 1);
            }
            if (entry != tail && entryIsCall[entry]) {
                int operation = entryOperation[entry];
                int chosen = NOT_ALLOWED;
                int newState = step(state, operation);
                boolean possibleNow = newState != NOT_ALLOWED;
                if (possibleNow && firstCandidate == determinateCount && allowedAfter(stateBeforeIndeterminate, operation)
                        && seen.addIfNotDominated(linearized, operation, memoState(newState, NOT_ALLOWED))) {
                    chosen = operation;
                }
                if (!possibleNow) {
                    // The op cannot happen now; maybe an indeterminate op makes it possible.
                    long latestInvocation = firstReturnTime();
                    for (int candidate = firstCandidate; candidate < operations.length; candidate++) {
                        if (operations[candidate].invokedAtNanos() > latestInvocation) {
                            break;
                        }
                        steps++; // each candidate tried is work too: keeps the budget a bound on time
                        int candidateState = linearized.contains(candidate)
                            || !allowedAfter(stateBeforeIndeterminate, candidate) ? NOT_ALLOWED : step(state, candidate);
                        boolean helps = candidateState != NOT_ALLOWED && (step(candidateState, operation) != NOT_ALLOWED
                            || enablesAnIndeterminateCas(candidateState, linearized, latestInvocation));
                        if (helps && seen.addIfNotDominated(linearized, candidate, memoState(candidateState, state))) {
                            chosen = candidate;
                            newState = candidateState;
                            break;
                        }
                    }
                }
                if (chosen == NOT_ALLOWED) {
                    entry = next[entry];
                    firstCandidate = determinateCount;
                    continue;
                }
                boolean indeterminate = chosen >= determinateCount;
                stack[depth++] = new Frame(chosen, state, stateBeforeIndeterminate, entry);
                stateBeforeIndeterminate = indeterminate ? state : NOT_ALLOWED;
                state = newState;
                linearized.set(chosen);
                if (indeterminate) {
                    // Stay at this entry: the op that needed the indeterminate one comes next.
                    firstCandidate = determinateCount;
                } else {
                    lift(chosen);
                    unlinearizedDeterminate--;
                    entry = next[head];
                    firstCandidate = determinateCount;
                }
                continue;
            }
            // A return (or the end) reached with its operation not linearized: undo the last choice.
            if (depth == 0) {
                return new Result(Verdict.NOT_LINEARIZABLE, steps);
            }
            Frame frame = stack[--depth];
            state = frame.state();
            stateBeforeIndeterminate = frame.stateBeforeIndeterminate();
            linearized.clear(frame.operation());
            if (frame.operation() < determinateCount) {
                unlift(frame.operation());
                unlinearizedDeterminate++;
                entry = next[callEntry[frame.operation()]];
                firstCandidate = determinateCount;
            } else {
                // Try the next indeterminate op for the same call.
                entry = frame.entry();
                firstCandidate = frame.operation() + 1;
            }
        }
        return new Result(Verdict.LINEARIZABLE, steps);
    }

    /** Whether some indeterminate CAS still available would match in {@code state}: the start of a chain. */
    private boolean enablesAnIndeterminateCas(int state, LinearizedSet linearized, long latestInvocation) {
        for (int candidate : indeterminateCasesExpecting.getOrDefault(state, NONE)) {
            if (operations[candidate].invokedAtNanos() <= latestInvocation && !linearized.contains(candidate)) {
                return true;
            }
        }
        return false;
    }

    /** One linearized op and what to restore when it is undone. */
    private record Frame(int operation, int state, int stateBeforeIndeterminate, int entry) {}

    /** After an indeterminate op, only an op that was impossible before it may follow. */
    private boolean allowedAfter(int stateBeforeIndeterminate, int operation) {
        return stateBeforeIndeterminate == NOT_ALLOWED || step(stateBeforeIndeterminate, operation) == NOT_ALLOWED;
    }

    /**
     * The time of the first answer still pending: an op linearized now must have been invoked by
     * then (calls come before returns at equal times, so "by then" includes that instant).
     */
    private long firstReturnTime() {
        for (int entry = next[head]; entry != tail; entry = next[entry]) {
            if (!entryIsCall[entry]) {
                return operations[entryOperation[entry]].completedAtNanos();
            }
        }
        return Long.MAX_VALUE;
    }

    /** The register state plus the state before a just-linearized indeterminate op (or none). */
    private static long memoState(int state, int stateBeforeIndeterminate) {
        return ((long) state << 32) | (stateBeforeIndeterminate + 1L);
    }

    private void lift(int operation) {
        unlink(callEntry[operation]);
        unlink(returnEntry[operation]);
    }

    /** Exactly reverses {@link #lift}; lifts are undone last-in first-out, so neighbours are intact. */
    private void unlift(int operation) {
        relink(returnEntry[operation]);
        relink(callEntry[operation]);
    }

    private void unlink(int entry) {
        next[prev[entry]] = next[entry];
        prev[next[entry]] = prev[entry];
    }

    private void relink(int entry) {
        next[prev[entry]] = entry;
        prev[next[entry]] = entry;
    }
}
