package herd.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CI run of the simulation: a few hundred seeded failure scenarios over herd's coordinator and the
 * complete node protocol, every safety rule checked after every event.
 */
class SimulationSeedsTest {
    static final long FIRST_SEED = 1;
    static final long SEEDS = 600;

    @Test
    void everySeedKeepsTheSafetyRulesAndSettles() {
        List<String> failures = new ArrayList<>();
        int ran = 0;
        for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
            Scenario scenario = ScenarioGenerator.generate(seed);
            ran++;
            SimulationResult result = Simulation.run(scenario, Simulation.Options.defaults());
            if (!result.passed()) {
                failures.add(result.report());
            }
        }
        assertThat(ran).as("seeds run").isEqualTo((int) SEEDS);
        assertThat(failures).as("failed seeds (replay one with bench/sim/run --replay SEED)").isEmpty();
    }
}
