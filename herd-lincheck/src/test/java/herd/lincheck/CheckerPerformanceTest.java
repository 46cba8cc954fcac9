package herd.lincheck;

import static org.assertj.core.api.Assertions.assertThat;

import herd.lincheck.SequentialRegisterSimulation.Fate;
import herd.lincheck.SequentialRegisterSimulation.Kind;
import herd.lincheck.SequentialRegisterSimulation.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Measures (prints, does not assert) how long checks of test-sized histories take. */
class CheckerPerformanceTest {

    private static final int OPERATIONS = 10_000;
    private static final int KEYS = 5;
    private static final int CLIENTS = 10;

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    @Test
    void tenThousandOperationsOnFiveKeysFromTenClients() {
        History history = simulate(new Random(1), 0);
        timedCheck("10k ops, 5 keys, 10 clients (first run, cold JIT)", history);
        CheckResult result = timedCheck("10k ops, 5 keys, 10 clients (second run)", history);

        assertThat(result.isLinearizable()).as(result.report()).isTrue();
    }

    @Test
    void tenThousandOperationsWithFivePercentUnanswered() {
        CheckResult result = timedCheck("10k ops, 5% unanswered", simulate(new Random(2), 5));

        assertThat(result.isLinearizable()).as(result.report()).isTrue();
    }

    @Test
    void tenThousandOperationsWithTwentyPercentUnanswered() {
        CheckResult result = timedCheck("10k ops, 20% unanswered", simulate(new Random(4), 20));

        assertThat(result.isLinearizable()).as(result.report()).isTrue();
    }

    /**
     * Proving a violation among many unanswered operations can need exponentially many steps; the
     * budget turns that into "unknown" within about a second instead of hanging. Never "linearizable".
     */
    @Test
    void aStaleReadAmidFivePercentUnansweredIsNeverPassed() {
        CheckResult result = timedCheck("10k ops, 5% unanswered + 1 stale read", withStaleReadAtTheEnd(simulate(new Random(11), 5)));

        assertThat(result.isLinearizable()).isFalse();
    }

    @Test
    void tenThousandOperationsWithOneStaleRead() {
        CheckResult result = timedCheck("10k ops + 1 stale read (search + explanation)",
            withStaleReadAtTheEnd(simulate(new Random(3), 0)));

        System.out.println(result.report());
        assertThat(result).isInstanceOfSatisfying(CheckResult.Violation.class, violation -> assertThat(
            violation.operations()).as("the explanation names the stale read").anyMatch(op -> op.clientId() == 99));
    }

    private static History withStaleReadAtTheEnd(History history) {
        List<Operation> operations = new ArrayList<>(history.operations());
        Operation lastAnsweredPut = operations.stream()
            .filter(op -> op.action() instanceof Action.Put && op.outcome() instanceof Outcome.Ok)
            .reduce((first, second) -> second).orElseThrow();
        // Re-read a value written long before the end, after everything else completed.
        Operation oldPut = operations.stream().filter(op -> op.key().equals(lastAnsweredPut.key())
            && op.action() instanceof Action.Put && op.outcome() instanceof Outcome.Ok).findFirst().orElseThrow();
        long end = operations.stream().mapToLong(Operation::completedAtNanos).max().orElseThrow();
        operations.add(new Operation(99, oldPut.key(), Action.get(),
            Outcome.read(((Action.Put) oldPut.action()).value()), end + 1, end + 1000));
        return new History(operations);
    }

    private CheckResult timedCheck(String what, History history) {
        long start = System.nanoTime();
        CheckResult result = checker.check(history);
        long elapsedMicros = (System.nanoTime() - start) / 1000;
        System.out.printf("lincheck timing: %s: %.1f ms -> %s%n", what, elapsedMicros / 1000.0,
            result.report().lines().findFirst().orElse(""));
        return result;
    }

    /** Ten clients, each doing operations back to back with 0.1-2 ms latency, on five keys. */
    private static History simulate(Random random, int unansweredPercent) {
        List<Step> steps = new ArrayList<>();
        Kind[] kinds = {Kind.PUT, Kind.PUT, Kind.GET, Kind.GET, Kind.GET, Kind.CAS, Kind.CAS, Kind.DELETE};
        for (int i = 0; i < OPERATIONS; i++) {
            Fate fate = random.nextInt(100) < unansweredPercent
                ? (random.nextBoolean() ? Fate.TOOK_EFFECT_UNANSWERED : Fate.LOST_UNANSWERED) : Fate.ANSWERED;
            steps.add(new Step(random.nextInt(CLIENTS), random.nextInt(KEYS), kinds[random.nextInt(kinds.length)],
                random.nextInt(50_000), 100_000 + random.nextInt(1_900_000), random.nextInt(1001), fate,
                random.nextInt(10) < 8));
        }
        return SequentialRegisterSimulation.run(steps);
    }
}
