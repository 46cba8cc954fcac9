package herd.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A seed is the whole run: running it again gives the same trace, byte for byte. */
class ReplayTest {
    private static final long SEED = 7;

    @Test
    void theSameSeedReplaysTheSameTraceByteForByte() {
        SimulationResult first = Simulation.run(SEED, Simulation.Options.defaults().keepingFullTrace());
        SimulationResult second = Simulation.run(SEED, Simulation.Options.defaults().keepingFullTrace());

        assertThat(first.fullTrace()).isNotBlank();
        assertThat(second.fullTrace()).isEqualTo(first.fullTrace());
        assertThat(second.traceDigest()).isEqualTo(first.traceDigest());
        assertThat(second.events()).isEqualTo(first.events());
        assertThat(second.commits()).isEqualTo(first.commits());
    }

    @Test
    void keepingTheFullTraceDoesNotChangeTheRun() {
        SimulationResult withTrace = Simulation.run(SEED, Simulation.Options.defaults().keepingFullTrace());
        SimulationResult withoutTrace = Simulation.run(SEED);

        assertThat(withoutTrace.fullTrace()).isNull();
        assertThat(withoutTrace.traceDigest()).isEqualTo(withTrace.traceDigest());
        assertThat(withoutTrace.traceTail()).isEqualTo(withTrace.traceTail());
    }

    @Test
    void differentSeedsMakeDifferentRuns() {
        assertThat(Simulation.run(SEED + 1).traceDigest()).isNotEqualTo(Simulation.run(SEED).traceDigest());
    }

    @Test
    void theTraceNamesEveryEventInOrder() {
        SimulationResult result = Simulation.run(SEED, Simulation.Options.defaults().keepingFullTrace());

        assertThat(result.fullTrace()).startsWith("#1 ");
        assertThat(result.fullTrace()).contains("is elected leader", "commit ", "quiet period begins");
        assertThat(result.fullTrace()).contains("#" + result.events() + " " + result.scenario().endMillis() + "ms end of the quiet period");
    }
}
