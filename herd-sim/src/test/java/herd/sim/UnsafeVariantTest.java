package herd.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The checker can fail: deliberately unsafe behaviour is caught, with a seed and a trace to replay it. */
class UnsafeVariantTest {
    private static final Simulation.Options UNSAFE =
        Simulation.Options.defaults().withCoordinator(CoordinatorVariant.RECOVERS_WITHOUT_WAITING);

    @Test
    void recoveringALostNodesResourcesWithoutWaitingRunsThemTwice() {
        long seed = 19;
        assertThat(Simulation.run(seed).passed()).as("seed %d passes with the real rules", seed).isTrue();

        SimulationResult unsafe = Simulation.run(seed, UNSAFE);

        assertThat(unsafe.passed()).isFalse();
        assertThat(unsafe.violation()).startsWith("invariant 1 (exclusive resources):").contains(" at once");
        assertThat(unsafe.report()).contains("seed " + seed + " FAILED at event #" + unsafe.failedAtEvent(),
            "bench/sim/run --replay " + seed, "last events:", "VIOLATION");
        assertThat(unsafe.traceTail().lines().count()).isEqualTo(Trace.TAIL_LINES);
    }

    @Test
    void theUnsafeVariantIsCaughtOnManySeeds() {
        int caught = 0;
        for (long seed = 1; seed <= 40; seed++) {
            Scenario scenario = ScenarioGenerator.generate(seed);
            if (!Simulation.run(scenario, UNSAFE).passed()) {
                caught++;
            }
        }
        assertThat(caught).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aFailureReplaysExactly() {
        SimulationResult first = Simulation.run(19, UNSAFE);
        SimulationResult again = Simulation.run(19, UNSAFE);

        assertThat(again.failedAtEvent()).isEqualTo(first.failedAtEvent());
        assertThat(again.traceDigest()).isEqualTo(first.traceDigest());
        assertThat(again.report()).isEqualTo(first.report());
    }
}
