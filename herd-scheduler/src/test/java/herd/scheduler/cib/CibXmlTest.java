package herd.scheduler.cib;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Primitive;
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
}
