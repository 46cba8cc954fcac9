package herd.lincheck;

import static org.assertj.core.api.Assertions.assertThat;

import herd.lincheck.SequentialRegisterSimulation.Fate;
import herd.lincheck.SequentialRegisterSimulation.Kind;
import herd.lincheck.SequentialRegisterSimulation.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

class LinearizabilityPropertiesTest {

    private final LinearizabilityChecker checker = new LinearizabilityChecker();
    /**
     * For hundreds of overlapping operations on one key. With a stale read added, the default budget
     * of search steps sometimes ran out (the checker answered "unknown", honestly, where a violation
     * was expected); 20 million steps decided the history that showed it, so 50 million leave room.
     */
    private final LinearizabilityChecker longHistoryChecker = new LinearizabilityChecker(50_000_000);

    @Property(tries = 300)
    void historiesOfARealSequentialRegisterAlwaysPass(@ForAll("simulatedSteps") List<Step> steps) {
        History history = SequentialRegisterSimulation.run(steps);

        CheckResult result = checker.check(history);

        assertThat(result.isLinearizable()).as(() -> result.report() + "\n" + HistoryFormat.format(history)).isTrue();
    }

    @Property(tries = 300)
    void anInjectedStaleReadIsAlwaysFlagged(@ForAll("simulatedSteps") List<Step> steps) {
        History history = SequentialRegisterSimulation.run(steps);
        Optional<Operation> staleRead = staleReadAfterEverything(history);
        Assume.that(staleRead.isPresent());
        List<Operation> withStaleRead = new ArrayList<>(history.operations());
        withStaleRead.add(staleRead.get());

        CheckResult result = checker.check(new History(withStaleRead));

        assertThat(result).as(() -> HistoryFormat.format(new History(withStaleRead)))
            .isInstanceOfSatisfying(CheckResult.Violation.class, violation -> {
                assertThat(violation.key()).isEqualTo(staleRead.get().key());
                assertThat(BruteForceRegister.isLinearizable(violation.operations()))
                    .as("the reported operations are a violation by themselves: " + violation.report()).isFalse();
            });
    }

    /** Hundreds of operations on one key: the linearized set spans several 64-bit words. */
    @Property(tries = 25)
    void longHistoriesOfOneKeyPassAndFailAsTheyShould(@ForAll("longSingleKeySteps") List<Step> steps) {
        History history = SequentialRegisterSimulation.run(steps);
        CheckResult result = longHistoryChecker.check(history);
        assertThat(result.isLinearizable()).as(result::report).isTrue();

        Optional<Operation> staleRead = staleReadAfterEverything(history);
        Assume.that(staleRead.isPresent());
        List<Operation> withStaleRead = new ArrayList<>(history.operations());
        withStaleRead.add(staleRead.get());
        assertThat(longHistoryChecker.check(new History(withStaleRead))).isInstanceOf(CheckResult.Violation.class);
    }

    /** The search, with and without its reductions, agrees with trying every order. */
    @Property(tries = 2000)
    void searchAgreesWithBruteForce(@ForAll("smallArbitraryHistories") List<Operation> operations) {
        boolean expected = BruteForceRegister.isLinearizable(operations);

        CheckResult result = checker.checkKey("k", operations);

        String context = HistoryFormat.format(new History(operations));
        assertThat(result.isLinearizable()).as(context).isEqualTo(expected);
        assertThat(RegisterSearch.searchWithoutReductions(operations, 1_000_000).verdict())
            .as(context).isEqualTo(expected ? RegisterSearch.Verdict.LINEARIZABLE : RegisterSearch.Verdict.NOT_LINEARIZABLE);
        if (result instanceof CheckResult.Violation violation) {
            assertThat(BruteForceRegister.isLinearizable(violation.operations())).as(violation.report()).isFalse();
            assertThat(operations).containsAll(violation.operations());
        }
    }

    @Property(tries = 200)
    void historiesSurviveTheTextFormat(@ForAll("smallArbitraryHistories") List<Operation> operations,
                                       @ForAll("awkwardText") String key) {
        List<Operation> renamed = operations.stream().map(op -> new Operation(op.clientId(), key, op.action(),
            op.outcome(), op.invokedAtNanos(), op.completedAtNanos())).toList();
        History history = new History(renamed);

        assertThat(HistoryFormat.parse(HistoryFormat.format(history))).isEqualTo(history);
    }

    /**
     * A get after every other operation that returns a value v whose write W was followed, strictly
     * in real time, by an answered write of something else: every order puts W first, so v is gone.
     */
    private static Optional<Operation> staleReadAfterEverything(History history) {
        List<Operation> answeredWrites = history.operations().stream()
            .filter(op -> op.outcome() instanceof Outcome.Ok).toList();
        long end = history.operations().stream().mapToLong(Operation::completedAtNanos).max().orElse(0);
        for (Operation write : answeredWrites) {
            Optional<String> value = write.writtenValue().orElseThrow();
            boolean overwrittenLater = answeredWrites.stream().anyMatch(later -> later.key().equals(write.key())
                && later.invokedAtNanos() > write.completedAtNanos());
            if (value.isPresent() && overwrittenLater) {
                return Optional.of(new Operation(42, write.key(), Action.get(), Outcome.read(value.get()),
                    end + 1, end + 2));
            }
        }
        return Optional.empty();
    }

    @Provide
    Arbitrary<List<Step>> simulatedSteps() {
        Arbitrary<Fate> fates = Arbitraries.frequency(Tuple.of(85, Fate.ANSWERED),
            Tuple.of(5, Fate.TOOK_EFFECT_UNANSWERED), Tuple.of(5, Fate.LOST_UNANSWERED), Tuple.of(5, Fate.REJECTED));
        Arbitrary<Kind> kinds = Arbitraries.frequency(Tuple.of(35, Kind.PUT), Tuple.of(35, Kind.GET),
            Tuple.of(22, Kind.CAS), Tuple.of(8, Kind.DELETE));
        Arbitrary<Step> step = Combinators.combine(
            Arbitraries.integers().between(0, 9),
            Arbitraries.integers().between(0, 2),
            kinds,
            Arbitraries.longs().between(0, 50),
            Arbitraries.longs().between(1, 200),
            Arbitraries.integers().between(0, 1000),
            fates,
            Arbitraries.frequency(Tuple.of(8, true), Tuple.of(2, false))).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(80);
    }

    @Provide
    Arbitrary<List<Step>> longSingleKeySteps() {
        return simulatedSteps().map(steps -> steps.stream().map(step -> new Step(step.client(), 0, step.kind(),
            step.gapNanos(), step.durationNanos(), step.pointPermille(), step.fate(), step.casMatches())).toList())
            .list().ofMinSize(3).ofMaxSize(5).map(lists -> lists.stream().flatMap(List::stream).toList())
            .filter(steps -> steps.size() >= 100);
    }

    /** Up to 7 operations on key "k" with values from a tiny pool, so that coincidences abound. */
    @Provide
    Arbitrary<List<Operation>> smallArbitraryHistories() {
        Arbitrary<String> values = Arbitraries.of("a", "b", "c");
        Arbitrary<Optional<String>> maybeValues = Arbitraries.frequency(
            Tuple.of(3, Optional.of("a")), Tuple.of(3, Optional.of("b")), Tuple.of(1, Optional.of("c")),
            Tuple.of(2, Optional.empty()));
        Arbitrary<Action> actions = Arbitraries.oneOf(
            values.map(Action::put),
            Arbitraries.just(Action.get()),
            Arbitraries.just(Action.delete()),
            Combinators.combine(maybeValues, values).as(Action.Cas::new));
        Arbitrary<Operation> operation = Combinators.combine(
            actions, maybeValues, Arbitraries.integers().between(0, 9), Arbitraries.longs().between(0, 20),
            Arbitraries.longs().between(0, 10), Arbitraries.integers().between(0, 9))
            .as((action, read, outcomeDie, invoked, duration, client) -> new Operation(client, "k", action,
                outcomeFor(action, read, outcomeDie), invoked, invoked + duration));
        return operation.list().ofMinSize(1).ofMaxSize(7);
    }

    private static Outcome outcomeFor(Action action, Optional<String> read, int die) {
        if (die == 0) {
            return Outcome.rejected("400");
        }
        if (die <= 2) {
            return Outcome.indeterminate("timeout");
        }
        return switch (action) {
            case Action.Get get -> new Outcome.Read(read);
            case Action.Cas cas -> die % 2 == 0 ? Outcome.ok() : Outcome.mismatch();
            default -> Outcome.ok();
        };
    }

    @Provide
    Arbitrary<String> awkwardText() {
        return Arbitraries.strings().withChars("ab \"\\\n\t\r#é\u0001").ofMinLength(0).ofMaxLength(8);
    }
}
