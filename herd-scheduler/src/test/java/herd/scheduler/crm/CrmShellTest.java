package herd.scheduler.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.scheduler.model.Clone;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Expression;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Group;
import herd.scheduler.model.Location;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Role;
import herd.scheduler.model.Score;
import herd.scheduler.model.Validator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrmShellTest {

    private static String resource(String name) throws IOException {
        try (InputStream in = CrmShellTest.class.getResourceAsStream("/crm/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void loadsTheNginxMysqlDrbdClusterWithTypographicQuotes() throws IOException {
        Configuration c = CrmShell.parse(resource("nginx-mysql-drbd.crm"));
        Validator.requireValid(c);

        assertThat(c.nodes()).extracting(n -> n.uname()).containsExactly("doctormoon", "thelibrary-node1", "thelibrary-node2");
        assertThat(c.nodes().get(0).attributes()).containsEntry("standby", "on");
        assertThat(c.properties()).containsEntry("no-quorum-policy", "stop").containsEntry("stonith-enabled", "false")
                .containsEntry("default-resource-stickiness", "100");

        Group g = (Group) c.find("g_all").orElseThrow();
        assertThat(g.members()).extracting(Primitive::id).containsExactly("p_sip", "p_nginx", "p_mysql");
        Primitive sip = (Primitive) c.find("p_sip").orElseThrow();
        assertThat(sip.agent()).isEqualTo("ocf:heartbeat:IPaddr2");
        assertThat(sip.params()).containsEntry("ip", "192.168.42.23").containsEntry("nic", "eth0");
        Primitive ping = (Primitive) c.find("p_pingtest").orElseThrow();
        assertThat(ping.params()).containsEntry("host_list", "8.8.8.8 193.99.144.80 89.18.172.97");
        assertThat(ping.operations().get(0).intervalMs()).isEqualTo(5000);

        Clone ms = (Clone) c.find("ms_drbd").orElseThrow();
        assertThat(ms.promotable()).isTrue();
        assertThat(ms.meta()).containsEntry("master-max", "1").containsEntry("clone-max", "2").containsEntry("notify", "true");
        assertThat(((Clone) c.find("cl_pingtest").orElseThrow()).promotable()).isFalse();

        assertThat(c.orders()).singleElement().satisfies(o -> {
            assertThat(o.first()).isEqualTo("ms_drbd");
            assertThat(o.firstAction()).isEqualTo("promote");
            assertThat(o.then()).isEqualTo("g_all");
            assertThat(o.thenAction()).isEqualTo("start");
            assertThat(o.mandatory()).isTrue();
        });
        assertThat(c.colocations()).singleElement().satisfies(co -> {
            assertThat(co.dependent()).isEqualTo("g_all");
            assertThat(co.primary()).isEqualTo("ms_drbd");
            assertThat(co.primaryRole()).isEqualTo(Role.PROMOTED);
            assertThat(co.score()).isEqualTo(Score.INFINITY);
        });
        Location ping_rule = c.locations().get(0);
        assertThat(ping_rule.resource()).isEqualTo("g_all");
        assertThat(ping_rule.rules()).singleElement().satisfies(r -> {
            assertThat(r.id()).isEqualTo("l_all_ping-rule");
            assertThat(r.score()).isEqualTo(-Score.INFINITY);
            assertThat(r.booleanOp()).isEqualTo("or");
            assertThat(r.expressions()).hasSize(2);
            assertThat(((Expression.Attribute) r.expressions().get(0)).operation()).isEqualTo("not_defined");
            assertThat(((Expression.Attribute) r.expressions().get(1)).value()).isEqualTo("1000");
        });
    }

    @Test
    void showThenLoadGivesTheSameConfiguration() throws IOException {
        Configuration c = CrmShell.parse(resource("nginx-mysql-drbd.crm"));
        String shown = CrmShell.format(c);
        assertThat(CrmShell.parse(shown)).isEqualTo(c);
        assertThat(shown).contains("ms ms_drbd p_drbd").contains("colocation c_drbd INFINITY: g_all ms_drbd:Promoted")
                .contains("order o_afterdrbd Mandatory: ms_drbd:promote g_all:start");
    }

    @Test
    void errorsNameTheLineAndTheProblem() {
        assertThatThrownBy(() -> CrmShell.parse("primitive a ocf:heartbeat:Dummy\n\nprimitve b ocf:heartbeat:Dummy\n"))
                .hasMessageStartingWith("line 3: unknown statement 'primitve'");
        assertThatThrownBy(() -> CrmShell.parse("primitive a ocf:Dummy"))
                .hasMessageContaining("line 1").hasMessageContaining("needs a provider");
        assertThatThrownBy(() -> CrmShell.parse("primitive a ocf:heartbeat:Dummy \\\n  params ip=\"10.0.0.1"))
                .hasMessageContaining("line 1").hasMessageContaining("never closed");
        assertThatThrownBy(() -> CrmShell.parse("primitive a ocf:heartbeat:Dummy\nprimitive a ocf:heartbeat:Dummy"))
                .hasMessage("line 2: primitive a is already defined on line 1");
        assertThatThrownBy(() -> CrmShell.parse("group g a b"))
                .hasMessage("line 1: group g: member 'a' is not a defined primitive");
        assertThatThrownBy(() -> CrmShell.parse("primitive a ocf:heartbeat:Dummy\nlocation l a rule -inf: pingd lx 1"))
                .hasMessageContaining("line 2").hasMessageContaining("'lx' is not eq");
        assertThatThrownBy(() -> CrmShell.parse("primitive a ocf:heartbeat:Dummy op monitor interval=often"))
                .hasMessageContaining("line 1").hasMessageContaining("not a duration");
    }

    @Test
    void validationRejectsReferencesToMissingResourcesAndOrderCycles() {
        Configuration c = CrmShell.parse("""
                primitive a ocf:heartbeat:Dummy
                primitive b ocf:heartbeat:Dummy
                order a-b Mandatory: a b
                order b-a Mandatory: b a
                colocation c inf: a ghost
                location l ghost2 100: n1
                """);
        assertThat(Validator.problems(c)).containsExactlyInAnyOrder(
                "colocation c: resource 'ghost' does not exist",
                "location l: resource 'ghost2' does not exist",
                "order: mandatory orders form a cycle: a -> b -> a");
    }

    private static final String FENCE_DEVICES = """
            node node-a
            node node-b
            primitive ipmi-a stonith:fence_ipmilan params ip=10.0.0.1
            primitive ipmi-b stonith:fence_ipmilan params ip=10.0.0.2
            primitive psu-a stonith:fence_apc params port=1
            primitive sbd stonith:external/sbd
            primitive web ocf:heartbeat:nginx
            """;

    @Test
    void fencingTopologyForEveryNodeGivesOneLevelPerToken() {
        Configuration c = CrmShell.parse(FENCE_DEVICES + "fencing_topology ipmi-a psu-a,sbd\n");
        assertThat(c.fencingTopology()).containsExactly(
                new FencingLevel(FencingLevel.ALL_NODES, 1, List.of("ipmi-a")),
                new FencingLevel(FencingLevel.ALL_NODES, 2, List.of("psu-a", "sbd")));
        Validator.requireValid(c);
        assertThat(CrmShell.format(c)).contains("fencing_topology ipmi-a psu-a,sbd\n");
    }

    @Test
    void fencingTopologyPerNodeJoinsCommaSeparatedDevicesIntoOneLevel() {
        Configuration c = CrmShell.parse(FENCE_DEVICES + "fencing_topology node-a: ipmi-a,psu-a sbd node-b: ipmi-b\n");
        assertThat(c.fencingTopology()).containsExactly(
                new FencingLevel("node-a", 1, List.of("ipmi-a", "psu-a")),
                new FencingLevel("node-a", 2, List.of("sbd")),
                new FencingLevel("node-b", 1, List.of("ipmi-b")));
        Validator.requireValid(c);
        String shown = CrmShell.format(c);
        assertThat(shown).contains("fencing_topology \\\n    node-a: ipmi-a,psu-a sbd \\\n    node-b: ipmi-b\n");
        assertThat(CrmShell.parse(shown)).isEqualTo(c);
    }

    @Test
    void fencingTopologyForEveryNodeAndPerNodeMayBeGivenInSeparateStatements() {
        Configuration c = CrmShell.parse(FENCE_DEVICES + "fencing_topology node-b: ipmi-b sbd\nfencing_topology sbd\n");
        assertThat(c.fencingLevelsFor("node-b")).extracting(FencingLevel::devices).containsExactly(List.of("ipmi-b"), List.of("sbd"));
        assertThat(c.fencingLevelsFor("node-a")).extracting(FencingLevel::devices).containsExactly(List.of("sbd"));
        String shown = CrmShell.format(c);
        assertThat(shown).contains("fencing_topology sbd\nfencing_topology \\\n    node-b: ipmi-b sbd\n");
        assertThat(CrmShell.parse(shown)).isEqualTo(c);
    }

    @Test
    void fencingTopologyErrorsNameTheLineAndTheFix() {
        assertThatThrownBy(() -> CrmShell.parse("primitive s stonith:x\nfencing_topology\n"))
                .hasMessageStartingWith("line 2: fencing_topology lists no devices");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology s1 node-a: s2"))
                .hasMessageStartingWith("line 1: fencing_topology: 'node-a:' names a node after devices for every node");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology node-a: node-b: s1"))
                .hasMessage("line 1: fencing_topology: node node-a has no devices before 'node-b:'");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology node-a: s1 node-b:"))
                .hasMessage("line 1: fencing_topology: node node-b has no devices");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology node-a: s1,,s2"))
                .hasMessageContaining("line 1").hasMessageContaining("'s1,,s2' is not a device id");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology node-a: s1,s1"))
                .hasMessageContaining("device s1 is listed twice");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology attr:rack=1: s1"))
                .hasMessageContaining("selects nodes by attribute");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology node-a: s1\n\nfencing_topology node-b: s2 node-a: s3\n"))
                .hasMessage("line 3: fencing_topology: node node-a's levels are already given on line 1; list all of them in one place");
        assertThatThrownBy(() -> CrmShell.parse("fencing_topology s1\nfencing_topology s2\n"))
                .hasMessageStartingWith("line 2: fencing_topology: the levels for every node are already given on line 1");
    }

    @Test
    void validationRejectsFencingLevelsNamingMissingOrNonStonithDevicesAndUnknownNodes() {
        Configuration c = CrmShell.parse(FENCE_DEVICES + "fencing_topology node-a: ipmi-a,ghost web node-c: sbd\n");
        assertThat(Validator.problems(c)).containsExactly(
                "fencing_topology node-a level 1: device 'ghost' does not exist; define it (primitive ghost stonith:AGENT ...) "
                        + "or remove it from the level",
                "fencing_topology node-a level 2: 'web' is a primitive of class ocf, not a fence device; a level lists stonith "
                        + "primitives only (primitive ID stonith:AGENT)",
                "fencing_topology: node 'node-c' is not a configured node (nodes: node-a, node-b); correct the name or declare the node");
        assertThatThrownBy(() -> Validator.requireValid(c)).isInstanceOf(herd.scheduler.model.ConfigurationException.class);
    }

    @Test
    void validationRejectsDuplicateAndNonPositiveIndexes() {
        Configuration parsed = CrmShell.parse(FENCE_DEVICES);
        Configuration c = parsed.withFencingTopology(List.of(
                new FencingLevel("node-a", 1, List.of("ipmi-a")),
                new FencingLevel("node-a", 1, List.of("psu-a")),
                new FencingLevel("node-b", 0, List.of("ipmi-b")),
                new FencingLevel(FencingLevel.ALL_NODES, 1, List.of())));
        assertThat(Validator.problems(c)).containsExactly(
                "fencing_topology node-a level 1: is defined twice; give each of node-a's levels its own index",
                "fencing_topology node-b level 0: index 0 is not valid; levels are numbered 1, 2, ... in the order they are tried",
                "fencing_topology all nodes level 1: lists no devices; give at least one stonith resource or remove the level");
    }

    @Test
    void withoutDeclaredNodesAnyTargetIsAccepted() {
        Configuration c = CrmShell.parse("primitive s stonith:fence_x\nfencing_topology anywhere: s\n");
        assertThat(Validator.problems(c)).isEmpty();
    }
}
