package herd.scheduler.cib;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Validator;
import herd.scheduler.crm.CrmShell;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CibXmlTest {

    private static String cib(String resources, String lrm) {
        return """
                <cib have-quorum="1" execution-date="1700000000">
                  <configuration>
                    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
                    <nodes><node id="1" uname="n1"/></nodes>
                    <resources>%s</resources>
                    <constraints/>
                  </configuration>
                  <status>
                    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
                      <lrm id="1"><lrm_resources>%s</lrm_resources></lrm>
                    </node_state>
                  </status>
                </cib>
                """.formatted(resources, lrm);
    }

    private static String op(String rsc, String task, int interval, int rc, int call, int target) {
        return "<lrm_rsc_op id=\"%s_%s_%d\" operation=\"%s\" interval=\"%d\" rc-code=\"%d\" op-status=\"0\" call-id=\"%d\" transition-key=\"1:1:%d:x\"/>"
                .formatted(rsc, task, call, task, interval, rc, call, target);
    }

    private static Map<String, Transition.Placement> placements(String xml) {
        CibXml.Parsed p = CibXml.parse(xml);
        return Scheduler.schedule(p.state(), p.executionDateSec()).revised().stream()
                .collect(Collectors.toMap(Transition.Placement::resource, x -> x));
    }

    private static final String DUMMY = "<primitive id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>";

    @Test
    void readsConfigurationElements() {
        Configuration c = CibXml.parseConfiguration(cib("""
                <clone id="ms"><meta_attributes id="m"><nvpair id="m1" name="promotable" value="true"/></meta_attributes>
                  <primitive id="d" class="ocf" provider="linbit" type="drbd">
                    <operations><op id="d-mon" name="monitor" interval="10s" role="Master" on-fail="restart"/></operations>
                  </primitive></clone>""", ""));
        Clone ms = (Clone) c.resources().get(0);
        assertThat(ms.promotable()).isTrue();
        Primitive d = (Primitive) ms.child();
        assertThat(d.agent()).isEqualTo("ocf:linbit:drbd");
        assertThat(d.operations().get(0).intervalMs()).isEqualTo(10_000);
        assertThat(d.operations().get(0).role()).isEqualTo(herd.scheduler.model.Role.PROMOTED);
        assertThat(c.property("stonith-enabled", "true")).isEqualTo("false");
    }

    @Test
    void aSuccessfulStartMeansStarted() {
        var p = placements(cib(DUMMY, "<lrm_resource id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">"
                + op("a", "start", 0, 0, 2, 0) + "</lrm_resource>"));
        assertThat(p.get("a").currentNodes()).containsExactly("n1");
        assertThat(p.get("a").failed()).isFalse();
    }

    @Test
    void aProbeThatFindsNothingMeansStopped() {
        var p = placements(cib(DUMMY, "<lrm_resource id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">"
                + op("a", "monitor", 0, 7, 1, 7) + "</lrm_resource>"));
        assertThat(p.get("a").currentNodes()).isEmpty();
    }

    @Test
    void aRecurringMonitorReportingNotRunningIsAFailure() {
        var p = placements(cib(DUMMY, "<lrm_resource id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">"
                + op("a", "start", 0, 0, 2, 0) + op("a", "monitor", 10000, 7, 3, 0) + "</lrm_resource>"));
        assertThat(p.get("a").currentNodes()).containsExactly("n1");
        assertThat(p.get("a").failed()).isTrue();
    }

    @Test
    void aStopAfterAFailureClearsIt() {
        var p = placements(cib(DUMMY, "<lrm_resource id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">"
                + op("a", "start", 0, 0, 2, 0) + op("a", "monitor", 10000, 7, 3, 0) + op("a", "stop", 0, 0, 4, 0) + "</lrm_resource>"));
        assertThat(p.get("a").currentNodes()).isEmpty();
        assertThat(p.get("a").failed()).isFalse();
    }

    @Test
    void promotionIsReadFromPromoteAndFromMonitorsReturningEight() {
        String ms = "<clone id=\"ms\"><meta_attributes id=\"m\"><nvpair id=\"m1\" name=\"promotable\" value=\"true\"/></meta_attributes>"
                + "<primitive id=\"d\" class=\"ocf\" provider=\"linbit\" type=\"drbd\"/></clone>";
        var p = placements(cib(ms, "<lrm_resource id=\"d\" class=\"ocf\" provider=\"linbit\" type=\"drbd\">"
                + op("d", "start", 0, 0, 2, 0) + op("d", "monitor", 0, 8, 3, 7) + "</lrm_resource>"));
        assertThat(p.get("d:0").currentRole()).isEqualTo("Promoted");
    }

    @Test
    void malformedInputIsReportedClearly() {
        assertThatThrownBy(() -> CibXml.parse("<cib><configuration>")).hasMessageContaining("not well-formed XML at line 1");
        assertThatThrownBy(() -> CibXml.parse("<config/>")).hasMessageContaining("expected <cib>");
        assertThatThrownBy(() -> CibXml.parse(cib("<primitive id=\"x\" class=\"ocf\"/>", "")))
                .hasMessageContaining("primitive x needs both class and type");
    }

    private static String withTopology(String levels) {
        return """
                <cib>
                  <configuration>
                    <crm_config/>
                    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
                    <resources>
                      <primitive id="ipmi1" class="stonith" type="fence_ipmilan"/>
                      <primitive id="psu1" class="stonith" type="fence_apc"/>
                      <primitive id="psu2" class="stonith" type="fence_apc"/>
                      <primitive id="sbd" class="stonith" type="external/sbd"/>
                    </resources>
                    <constraints/>
                    <fencing-topology>%s</fencing-topology>
                  </configuration>
                </cib>
                """.formatted(levels);
    }

    @Test
    void readsFencingLevelsWithSeveralDevices() {
        Configuration c = CibXml.parseConfiguration(withTopology("""
                <fencing-level id="fl-node1-2" target="node1" index="2" devices="sbd"/>
                <fencing-level id="fl-node1-1" target="node1" index="1" devices="psu1,psu2"/>
                <fencing-level id="fl-node2-1" target="node2" index="1" devices="ipmi1"/>
                <fencing-level id="fl-all-1" target-pattern=".*" index="1" devices="sbd"/>"""));
        assertThat(c.fencingTopology()).containsExactly(
                new FencingLevel("node1", 2, List.of("sbd")),
                new FencingLevel("node1", 1, List.of("psu1", "psu2")),
                new FencingLevel("node2", 1, List.of("ipmi1")),
                new FencingLevel(FencingLevel.ALL_NODES, 1, List.of("sbd")));
        assertThat(Validator.problems(c)).isEmpty();
        assertThat(c.fencingLevelsFor("node1")).extracting(FencingLevel::index).containsExactly(1, 2);
        assertThat(c.fencingLevelsFor("node3")).extracting(FencingLevel::devices).containsExactly(List.of("sbd"));

        String shown = CrmShell.format(c);
        assertThat(shown).contains("fencing_topology sbd\n")
                .contains("fencing_topology \\\n    node1: psu1,psu2 sbd \\\n    node2: ipmi1\n");
        Configuration back = CrmShell.parse(shown);
        assertThat(back.fencingLevelsFor("node1")).isEqualTo(c.fencingLevelsFor("node1"));
        assertThat(CrmShell.parse(CrmShell.format(back))).isEqualTo(back);
    }

    @Test
    void gapsInImportedIndexesCloseWhenPrintedAsCrm() {
        Configuration c = CibXml.parseConfiguration(withTopology("""
                <fencing-level id="a" target="node1" index="10" devices="sbd"/>
                <fencing-level id="b" target="node1" index="5" devices="ipmi1"/>"""));
        assertThat(CrmShell.parse(CrmShell.format(c)).fencingTopology()).containsExactly(
                new FencingLevel("node1", 1, List.of("ipmi1")), new FencingLevel("node1", 2, List.of("sbd")));
    }

    @Test
    void importedFencingLevelsAreValidated() {
        Configuration c = CibXml.parseConfiguration(withTopology("""
                <fencing-level id="a" target="node1" index="1" devices="psu1,ghost"/>
                <fencing-level id="b" target="node1" index="1" devices="sbd"/>
                <fencing-level id="c" target="node9" index="0" devices="sbd"/>"""));
        assertThat(Validator.problems(c)).containsExactly(
                "fencing_topology node1 level 1: device 'ghost' does not exist; define it (primitive ghost stonith:AGENT ...) "
                        + "or remove it from the level",
                "fencing_topology node1 level 1: is defined twice; give each of node1's levels its own index",
                "fencing_topology node9 level 0: index 0 is not valid; levels are numbered 1, 2, ... in the order they are tried",
                "fencing_topology: node 'node9' is not a configured node (nodes: node1, node2); correct the name or declare the node");
    }

    @Test
    void unsupportedFencingTargetsAreRefusedSayingWhatIsSupported() {
        assertThatThrownBy(() -> CibXml.parseConfiguration(withTopology(
                "<fencing-level id=\"r\" target-attribute=\"rack\" target-value=\"1\" index=\"1\" devices=\"sbd\"/>")))
                .isInstanceOf(CibException.class)
                .hasMessage("fencing-level r: target-attribute is not supported; herd supports target=\"NODE\" and "
                        + "target-pattern=\".*\" (every node): write one level per node instead");
        assertThatThrownBy(() -> CibXml.parseConfiguration(withTopology(
                "<fencing-level id=\"p\" target-pattern=\"node[0-9]\" index=\"1\" devices=\"sbd\"/>")))
                .hasMessageContaining("fencing-level p: target-pattern \"node[0-9]\" is not supported");
        assertThatThrownBy(() -> CibXml.parseConfiguration(withTopology(
                "<fencing-level id=\"i\" target=\"node1\" index=\"first\" devices=\"sbd\"/>")))
                .hasMessageContaining("fencing-level i: index \"first\" is not a number");
        assertThatThrownBy(() -> CibXml.parseConfiguration(withTopology(
                "<fencing-level id=\"t\" index=\"1\" devices=\"sbd\"/>")))
                .hasMessageContaining("fencing-level t: has no target");
    }
}
