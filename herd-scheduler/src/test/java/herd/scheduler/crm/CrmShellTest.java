package herd.scheduler.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.scheduler.model.Clone;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Expression;
import herd.scheduler.model.Group;
import herd.scheduler.model.Location;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Role;
import herd.scheduler.model.Score;
import herd.scheduler.model.Validator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
}
