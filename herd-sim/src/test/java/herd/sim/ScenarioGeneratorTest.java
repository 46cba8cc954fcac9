package herd.sim;

import static org.assertj.core.api.Assertions.assertThat;

import herd.coordinator.Fencing;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import java.util.EnumSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ScenarioGeneratorTest {

    @Property(tries = 300)
    void everySeedGivesAValidScenario(@ForAll long seed) {
        Scenario scenario = ScenarioGenerator.generate(seed);

        assertThat(scenario).isEqualTo(ScenarioGenerator.generate(seed));
        assertThat(scenario.nodes()).hasSizeBetween(ScenarioGenerator.MIN_NODES, ScenarioGenerator.MAX_NODES);
        assertThat(scenario.servers()).hasSize(Scenario.SERVER_COUNT);
        assertThat(scenario.faults()).allSatisfy(fault -> assertThat(fault.atMillis())
            .isBetween(ScenarioGenerator.FAULTS_FROM_MILLIS, scenario.quietFromMillis() - 1));
        assertThat(scenario.faults()).isSortedAccordingTo((a, b) -> Long.compare(a.atMillis(), b.atMillis()));
        assertThat(scenario.endMillis() - scenario.quietFromMillis()).isEqualTo(ScenarioGenerator.QUIET_MILLIS);
        Configuration config = CrmShell.parse(scenario.crmText());
        assertThat(Fencing.inUse(config)).isEqualTo(scenario.fencing());
    }

    @Test
    void consecutiveSeedsCoverEveryTemplateAndBothSafetyMechanisms() {
        Set<Scenario.Template> templates = EnumSet.noneOf(Scenario.Template.class);
        Set<Boolean> fencing = new java.util.HashSet<>();
        for (long seed = 1; seed <= 40; seed++) {
            Scenario scenario = ScenarioGenerator.generate(seed);
            templates.add(scenario.template());
            fencing.add(scenario.fencing());
        }
        assertThat(templates).containsExactlyInAnyOrder(Scenario.Template.values());
        assertThat(fencing).containsExactlyInAnyOrder(true, false);
    }

    @Test
    void everyKindOfFaultIsDrawn() {
        Set<Class<?>> kinds = new java.util.HashSet<>();
        for (long seed = 1; seed <= 40; seed++) {
            ScenarioGenerator.generate(seed).faults().forEach(fault -> kinds.add(fault.getClass()));
        }
        assertThat(kinds).containsExactlyInAnyOrder(Scenario.Fault.Crash.class, Scenario.Fault.CrashLeader.class,
            Scenario.Fault.Partition.class, Scenario.Fault.FenceDeviceOutage.class, Scenario.Fault.ResourceDies.class);
    }
}
