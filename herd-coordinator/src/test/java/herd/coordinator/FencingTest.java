package herd.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FencingTest {
    private static final String DEVICES = """
        primitive ipmi-a stonith:fence_ipmilan params ip=10.0.0.1
        primitive ipmi-b stonith:fence_ipmilan params ip=10.0.0.2
        primitive psu-a stonith:fence_apc params port=1
        primitive psu-b stonith:fence_apc params port=2
        primitive sbd stonith:external/sbd
        primitive web ocf:heartbeat:nginx
        property stonith-enabled=true
        """;

    /** Each level as its devices' ids. */
    private static List<List<String>> levels(FenceRequest request) {
        return request.levels().stream().map(level -> level.stream().map(FenceRequest.Device::id).toList()).toList();
    }

    @Test
    void withoutATopologyEveryDeviceIsALevelOfItsOwnInConfigurationOrder() {
        Configuration c = CrmShell.parse(DEVICES);
        FenceRequest request = Fencing.request(c, "node-a", "lost");
        assertThat(request.target()).isEqualTo("node-a");
        assertThat(request.reason()).isEqualTo("lost");
        assertThat(levels(request)).containsExactly(List.of("ipmi-a"), List.of("ipmi-b"), List.of("psu-a"), List.of("psu-b"),
            List.of("sbd"));
    }

    @Test
    void theTargetsLevelsComeFromTheTopologyByIndexWithDevicesInTheGivenOrder() {
        Configuration c = CrmShell.parse(DEVICES + "fencing_topology node-a: ipmi-a psu-b,psu-a sbd node-b: ipmi-b\n");
        FenceRequest request = Fencing.request(c, "node-a", "lost");
        assertThat(levels(request)).containsExactly(List.of("ipmi-a"), List.of("psu-b", "psu-a"), List.of("sbd"));
        assertThat(request.levels().get(1).get(0)).isEqualTo(
            new FenceRequest.Device("psu-b", "stonith:fence_apc", java.util.Map.of("port", "2")));
        assertThat(levels(Fencing.request(c, "node-b", "lost"))).containsExactly(List.of("ipmi-b"));
    }

    @Test
    void levelsAreSortedByIndexWhateverTheirOrderInTheConfiguration() {
        Configuration c = CrmShell.parse(DEVICES).withFencingTopology(List.of(
            new herd.scheduler.model.FencingLevel("node-a", 3, List.of("sbd")),
            new herd.scheduler.model.FencingLevel("node-a", 1, List.of("psu-a", "psu-b")),
            new herd.scheduler.model.FencingLevel("node-a", 2, List.of("ipmi-a"))));
        assertThat(levels(Fencing.request(c, "node-a", "lost")))
            .containsExactly(List.of("psu-a", "psu-b"), List.of("ipmi-a"), List.of("sbd"));
    }

    @Test
    void aNodeWithoutLevelsOfItsOwnUsesTheLevelsForEveryNodeOrElseEveryDevice() {
        Configuration all = CrmShell.parse(DEVICES + "fencing_topology sbd ipmi-a,ipmi-b\nfencing_topology node-b: psu-b\n");
        assertThat(levels(Fencing.request(all, "node-a", "lost"))).containsExactly(List.of("sbd"), List.of("ipmi-a", "ipmi-b"));
        assertThat(levels(Fencing.request(all, "node-b", "lost"))).containsExactly(List.of("psu-b"));

        Configuration onlyB = CrmShell.parse(DEVICES + "fencing_topology node-b: psu-b\n");
        assertThat(levels(Fencing.request(onlyB, "node-a", "lost"))).hasSize(5);
    }

    @Test
    void stoppedDevicesAreLeftOutOfTheirLevelAndALevelLeftEmptyIsDropped() {
        Configuration c = CrmShell.parse(DEVICES.replace("primitive psu-a stonith:fence_apc params port=1",
                "primitive psu-a stonith:fence_apc params port=1 meta target-role=Stopped")
            .replace("primitive sbd stonith:external/sbd", "primitive sbd stonith:external/sbd meta target-role=stopped")
            + "fencing_topology node-a: sbd psu-a,psu-b psu-a ipmi-a\n");
        assertThat(levels(Fencing.request(c, "node-a", "lost"))).containsExactly(List.of("psu-b"), List.of("ipmi-a"));
        assertThat(Fencing.devices(c)).extracting(FenceRequest.Device::id).containsExactly("ipmi-a", "ipmi-b", "psu-b");
    }

    @Test
    void aTopologyWhoseDevicesAreAllStoppedLeavesNoLevel() {
        Configuration c = CrmShell.parse(DEVICES.replace("primitive sbd stonith:external/sbd",
                "primitive sbd stonith:external/sbd meta target-role=Stopped")
            + "fencing_topology node-a: sbd\n");
        assertThat(Fencing.request(c, "node-a", "lost").levels()).isEmpty();
        assertThat(Fencing.inUse(c)).isTrue();
    }
}
