package herd.scheduler.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.scheduler.crm.ConfigurationEdits.OperatorConstraint;
import herd.scheduler.crm.ConfigurationEdits.ResourceChanges;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Group;
import herd.scheduler.model.Primitive;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigurationEditsTest {
    private static final List<String> NODES = List.of("n1", "n2", "n3");
    private static final long NOW_SEC = Instant.parse("2026-11-23T18:00:00Z").getEpochSecond();

    private static final String BASE = """
        primitive web ocf:heartbeat:nginx params configfile=/etc/nginx/nginx.conf op monitor interval=10s
        primitive ip ocf:heartbeat:IPaddr2 params ip=10.0.0.50
        primitive db ocf:heartbeat:Dummy
        group svc ip db
        colocation web-with-svc INFINITY: web svc
        order svc-then-web Mandatory: svc web
        """;

    private static Configuration base() {
        return CrmShell.parse(BASE);
    }

    /** Every edit's result prints and reads back to the same model, so it can be stored as text. */
    private static Configuration roundTrip(Configuration c) {
        Configuration back = CrmShell.parse(CrmShell.format(c));
        assertThat(back).isEqualTo(c);
        return back;
    }

    // ------------------------------------------------------------------ create

    @Test
    void createAddsAPrimitive() {
        Configuration c = roundTrip(ConfigurationEdits.createResources(base(),
            "primitive vip herd:floating-ip params ip=10.0.0.9 op monitor interval=5s"));
        Primitive vip = (Primitive) c.find("vip").orElseThrow();
        assertThat(vip.agent()).isEqualTo("herd:floating-ip");
        assertThat(vip.params()).containsEntry("ip", "10.0.0.9");
        assertThat(c.colocations()).isEqualTo(base().colocations());
    }

    @Test
    void createMayGroupExistingResources() {
        Configuration c = roundTrip(ConfigurationEdits.createResources(base(), "primitive cache ocf:heartbeat:Dummy\ngroup front web cache"));
        assertThat(((Group) c.find("front").orElseThrow()).members()).extracting(Primitive::id).containsExactly("web", "cache");
    }

    @Test
    void createRefusesAnIdInUseAndNamesTheLineOfTheNewText() {
        assertThatThrownBy(() -> ConfigurationEdits.createResources(base(), "primitive web ocf:heartbeat:Dummy"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("line 1: primitive web already exists: pick another id");
        assertThatThrownBy(() -> ConfigurationEdits.createResources(base(), "primitive a ocf:heartbeat:Dummy\nprimitve b ocf:heartbeat:Dummy"))
            .hasMessageStartingWith("line 2: unknown statement 'primitve'");
    }

    @Test
    void createRefusesConstraintsAndEmptyText() {
        assertThatThrownBy(() -> ConfigurationEdits.createResources(base(), "location l1 web 100: n1"))
            .hasMessageContaining("herd constraint add");
        assertThatThrownBy(() -> ConfigurationEdits.createResources(base(), "  "))
            .hasMessageStartingWith("nothing to create");
        assertThatThrownBy(() -> ConfigurationEdits.createResources(base(), "primitive x ocf:Dummy"))
            .hasMessageContaining("needs a provider");
    }

    // ------------------------------------------------------------------ update

    @Test
    void updateSetsAndDeletesParamsAndMeta() {
        Configuration c = roundTrip(ConfigurationEdits.updateResource(base(), "web", new ResourceChanges(
            Map.of("port", "8080"), Map.of("resource-stickiness", "100"), List.of("configfile"), List.of())));
        Primitive web = (Primitive) c.find("web").orElseThrow();
        assertThat(web.params()).containsExactly(Map.entry("port", "8080"));
        assertThat(web.meta()).containsExactly(Map.entry("resource-stickiness", "100"));
    }

    @Test
    void updateSetsMetaOnAGroupButRefusesItsParams() {
        Configuration c = ConfigurationEdits.updateResource(base(), "svc",
            new ResourceChanges(Map.of(), Map.of("migration-threshold", "3"), List.of(), List.of()));
        assertThat(c.find("svc").orElseThrow().meta()).containsEntry("migration-threshold", "3");
        assertThatThrownBy(() -> ConfigurationEdits.updateResource(base(), "svc",
            new ResourceChanges(Map.of("ip", "1.2.3.4"), Map.of(), List.of(), List.of())))
            .hasMessage("group svc has no parameters of its own: set them on its primitives (ip, db)");
    }

    @Test
    void updateRefusesUnknownResourcesAttributesAndNothingToDo() {
        assertThatThrownBy(() -> ConfigurationEdits.updateResource(base(), "ghost",
            new ResourceChanges(Map.of("a", "b"), Map.of(), List.of(), List.of())))
            .hasMessage("there is no resource 'ghost': the resources are web, svc, ip, db");
        assertThatThrownBy(() -> ConfigurationEdits.updateResource(base(), "web",
            new ResourceChanges(Map.of(), Map.of(), List.of("port"), List.of())))
            .hasMessage("web has no parameter 'port' (it has configfile)");
        assertThatThrownBy(() -> ConfigurationEdits.updateResource(base(), "web",
            new ResourceChanges(Map.of(), Map.of(), List.of(), List.of())))
            .hasMessageStartingWith("nothing to change");
        assertThatThrownBy(() -> ConfigurationEdits.updateResource(base(), "web",
            new ResourceChanges(Map.of("#uname", "x"), Map.of(), List.of(), List.of())))
            .hasMessageStartingWith("parameter name '#uname' is not valid");
    }

    // ------------------------------------------------------------------ delete

    @Test
    void deleteRefusesWhileConstraintsNameTheResource() {
        assertThatThrownBy(() -> ConfigurationEdits.deleteResource(base(), "web", false))
            .hasMessage("web is named by the constraints web-with-svc, svc-then-web: remove them first "
                + "('herd constraint remove ID'), or delete with --force, which removes them too");
    }

    @Test
    void deleteWithForceRemovesTheConstraintsToo() {
        Configuration c = roundTrip(ConfigurationEdits.deleteResource(base(), "web", true));
        assertThat(c.find("web")).isEmpty();
        assertThat(c.colocations()).isEmpty();
        assertThat(c.orders()).isEmpty();
        assertThat(c.find("svc")).isPresent();
    }

    @Test
    void deletingAGroupMemberKeepsTheGroupUntilItsLastMember() {
        Configuration noConstraints = ConfigurationEdits.removeConstraint(
            ConfigurationEdits.removeConstraint(base(), "web-with-svc"), "svc-then-web");
        Configuration c = ConfigurationEdits.deleteResource(noConstraints, "ip", false);
        assertThat(((Group) c.find("svc").orElseThrow()).members()).extracting(Primitive::id).containsExactly("db");
        Configuration last = ConfigurationEdits.deleteResource(c, "db", false);
        assertThat(last.find("svc")).isEmpty();
        assertThat(last.resources()).extracting(r -> r.id()).containsExactly("web");
    }

    @Test
    void deleteOfTheLastGroupMemberCountsTheGroupsConstraints() {
        Configuration c = ConfigurationEdits.deleteResource(base(), "ip", false);
        assertThatThrownBy(() -> ConfigurationEdits.deleteResource(c, "db", false))
            .hasMessageContaining("web-with-svc, svc-then-web");
    }

    @Test
    void deleteRefusesAnUnknownResourceAndACloneChild() {
        assertThatThrownBy(() -> ConfigurationEdits.deleteResource(base(), "ghost", true))
            .hasMessageStartingWith("there is no resource 'ghost'");
        Configuration cloned = ConfigurationEdits.createResources(Configuration.empty(),
            "primitive ping ocf:pacemaker:ping\nclone ping-clone ping");
        assertThatThrownBy(() -> ConfigurationEdits.deleteResource(cloned, "ping", false))
            .hasMessageContaining("delete ping-clone instead");
        assertThat(ConfigurationEdits.deleteResource(cloned, "ping-clone", false).resources()).isEmpty();
    }

    // ------------------------------------------------------------------ start / stop

    @Test
    void stopAndStartSetTargetRoleAndOverrideMembers() {
        Configuration stoppedMember = ConfigurationEdits.setTargetRole(base(), "db", "Stopped");
        assertThat(stoppedMember.find("db").orElseThrow().meta()).containsEntry("target-role", "Stopped");
        Configuration started = roundTrip(ConfigurationEdits.setTargetRole(stoppedMember, "svc", "Started"));
        assertThat(started.find("svc").orElseThrow().meta()).containsEntry("target-role", "Started");
        assertThat(started.find("db").orElseThrow().meta()).doesNotContainKey("target-role");
        assertThatThrownBy(() -> ConfigurationEdits.setTargetRole(base(), "web", "Paused"))
            .hasMessage("target-role 'Paused' is not Started or Stopped");
    }

    // ------------------------------------------------------------------ move / ban / clear

    @Test
    void moveAddsAPermanentPreferenceAndReplacesAnEarlierOne() {
        Configuration once = ConfigurationEdits.move(base(), NODES, "web", "n2", null, NOW_SEC);
        Configuration twice = roundTrip(ConfigurationEdits.move(once, NODES, "web", "n3", null, NOW_SEC));
        assertThat(CrmShell.format(twice)).contains("location cli-prefer-web web INFINITY: n3").doesNotContain("n2");
        assertThat(ConfigurationEdits.operatorConstraints(twice))
            .containsExactly(new OperatorConstraint("cli-prefer-web", "prefer", "web", "n3", 1_000_000, null, null));
    }

    @Test
    void moveWithALifetimeWritesADateRule() {
        Configuration c = roundTrip(ConfigurationEdits.move(base(), NODES, "web", "n2", Duration.ofMinutes(10), NOW_SEC));
        assertThat(CrmShell.format(c)).contains("location cli-prefer-web web")
            .contains("INFINITY: #uname eq n2 and date lt 2026-11-23T18:10:00Z");
        OperatorConstraint prefer = ConfigurationEdits.operatorConstraints(c).get(0);
        assertThat(prefer.node()).isEqualTo("n2");
        assertThat(prefer.expires()).isEqualTo("2026-11-23T18:10:00Z");
        assertThat(prefer.expiredAt(NOW_SEC + 599)).isFalse();
        assertThat(prefer.expiredAt(NOW_SEC + 600)).isTrue();
    }

    @Test
    void moveDropsABanFromTheTargetAndBanDropsAMoveToIt() {
        Configuration banned = ConfigurationEdits.ban(base(), NODES, "web", "n2", null, NOW_SEC);
        assertThat(CrmShell.format(banned)).contains("location cli-ban-web-on-n2 web -INFINITY: n2");
        Configuration moved = ConfigurationEdits.move(banned, NODES, "web", "n2", null, NOW_SEC);
        assertThat(ConfigurationEdits.operatorConstraints(moved)).extracting(OperatorConstraint::id).containsExactly("cli-prefer-web");
        Configuration bannedAgain = ConfigurationEdits.ban(moved, NODES, "web", "n2", Duration.ofHours(1), NOW_SEC);
        assertThat(ConfigurationEdits.operatorConstraints(bannedAgain))
            .containsExactly(new OperatorConstraint("cli-ban-web-on-n2", "ban", "web", "n2", -1_000_000,
                "2026-11-23T19:00:00Z", NOW_SEC + 3600));
    }

    @Test
    void clearRemovesMovesAndBansEverywhereOrOnOneNode() {
        Configuration c = ConfigurationEdits.move(base(), NODES, "web", "n1", null, NOW_SEC);
        c = ConfigurationEdits.ban(c, NODES, "web", "n2", null, NOW_SEC);
        c = ConfigurationEdits.ban(c, NODES, "web", "n3", Duration.ofHours(1), NOW_SEC);
        c = ConfigurationEdits.ban(c, NODES, "db", "n3", null, NOW_SEC);
        Configuration oneNode = ConfigurationEdits.clear(c, "web", "n2");
        assertThat(ConfigurationEdits.operatorConstraints(oneNode)).extracting(OperatorConstraint::id)
            .containsExactly("cli-prefer-web", "cli-ban-web-on-n3", "cli-ban-db-on-n3");
        Configuration all = roundTrip(ConfigurationEdits.clear(c, "web", null));
        assertThat(ConfigurationEdits.operatorConstraints(all)).extracting(OperatorConstraint::id)
            .containsExactly("cli-ban-db-on-n3");
        assertThat(ConfigurationEdits.clear(all, "web", null)).isEqualTo(all);
    }

    @Test
    void moveAndBanRefuseUnknownResourcesAndNodes() {
        assertThatThrownBy(() -> ConfigurationEdits.move(base(), NODES, "ghost", "n1", null, NOW_SEC))
            .hasMessageStartingWith("there is no resource 'ghost'");
        assertThatThrownBy(() -> ConfigurationEdits.ban(base(), NODES, "web", "n9", null, NOW_SEC))
            .hasMessage("there is no node 'n9' in the cluster (nodes: n1, n2, n3): 'herd node list' shows them");
        assertThatThrownBy(() -> ConfigurationEdits.clear(base(), "ghost", null))
            .hasMessageStartingWith("there is no resource 'ghost'");
    }

    @Test
    void lifetimesAreReadInShortAndIsoForms() {
        assertThat(ConfigurationEdits.parseLifetime("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(ConfigurationEdits.parseLifetime("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(ConfigurationEdits.parseLifetime("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(ConfigurationEdits.parseLifetime("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(ConfigurationEdits.parseLifetime("1w")).isEqualTo(Duration.ofDays(7));
        assertThat(ConfigurationEdits.parseLifetime("PT10M")).isEqualTo(Duration.ofMinutes(10));
        assertThat(ConfigurationEdits.parseLifetime("p1dt2h")).isEqualTo(Duration.ofHours(26));
    }

    @Test
    void badLifetimesAreRefused() {
        assertThatThrownBy(() -> ConfigurationEdits.parseLifetime("ten minutes"))
            .hasMessageStartingWith("lifetime 'ten minutes' is not a duration: write a number with a unit");
        assertThatThrownBy(() -> ConfigurationEdits.parseLifetime("0m")).hasMessageContaining("is not at least one second");
        assertThatThrownBy(() -> ConfigurationEdits.parseLifetime("-PT5M")).hasMessageContaining("is not at least one second");
        assertThatThrownBy(() -> ConfigurationEdits.parseLifetime("")).hasMessageStartingWith("the lifetime is empty");
        assertThatThrownBy(() -> ConfigurationEdits.parseLifetime("99999d")).hasMessageContaining("leave --lifetime out");
    }

    // ------------------------------------------------------------------ nodes

    @Test
    void nodeAttributesGoToTheNodeSection() {
        Configuration standby = roundTrip(ConfigurationEdits.setNodeAttribute(base(), NODES, "n2", "standby", "on"));
        assertThat(CrmShell.format(standby)).startsWith("node n2 \\\n    attributes standby=on\n");
        Configuration both = ConfigurationEdits.setNodeAttribute(standby, NODES, "n2", "rack", "r 7");
        assertThat(both.nodes().get(0).attributes()).containsExactly(Map.entry("standby", "on"), Map.entry("rack", "r 7"));
        Configuration online = ConfigurationEdits.deleteNodeAttribute(both, NODES, "n2", "standby");
        assertThat(online.nodes().get(0).attributes()).containsExactly(Map.entry("rack", "r 7"));
        Configuration bare = ConfigurationEdits.deleteNodeAttribute(online, NODES, "n2", "rack");
        assertThat(bare.nodes()).as("an entry with nothing left is dropped").isEmpty();
        assertThat(ConfigurationEdits.deleteNodeAttribute(bare, NODES, "n2", "rack")).isEqualTo(bare);
    }

    @Test
    void nodeAttributesRefuseUnknownNodesAndBadNames() {
        assertThatThrownBy(() -> ConfigurationEdits.setNodeAttribute(base(), NODES, "n9", "standby", "on"))
            .hasMessageStartingWith("there is no node 'n9' in the cluster");
        assertThatThrownBy(() -> ConfigurationEdits.setNodeAttribute(base(), NODES, "n1", "#uname", "x"))
            .hasMessageStartingWith("node attribute name '#uname' is not valid");
        assertThatThrownBy(() -> ConfigurationEdits.setNodeAttribute(base(), NODES, "n1", "a", "x\ny"))
            .hasMessageContaining("control characters");
    }

    // ------------------------------------------------------------------ constraints

    @Test
    void constraintsAreAddedListedAndRemoved() {
        Configuration c = roundTrip(ConfigurationEdits.addConstraints(base(), "location web-likes-n1 web 100: n1"));
        assertThat(ConfigurationEdits.constraints(c)).extracting(ConfigurationEdits.ConstraintLine::crm).containsExactly(
            "location web-likes-n1 web 100: n1", "colocation web-with-svc INFINITY: web svc",
            "order svc-then-web Mandatory: svc:start web:start");
        assertThat(ConfigurationEdits.constraints(c).get(1).resources()).containsExactly("web", "svc");
        Configuration removed = ConfigurationEdits.removeConstraint(c, "web-with-svc");
        assertThat(ConfigurationEdits.constraints(removed)).extracting(ConfigurationEdits.ConstraintLine::id)
            .containsExactly("web-likes-n1", "svc-then-web");
    }

    @Test
    void constraintAddRefusesResourcesUnknownReferencesAndTakenIds() {
        assertThatThrownBy(() -> ConfigurationEdits.addConstraints(base(), "primitive x ocf:heartbeat:Dummy"))
            .hasMessageContaining("herd resource create");
        assertThatThrownBy(() -> ConfigurationEdits.addConstraints(base(), "colocation c1 INFINITY: web ghost"))
            .hasMessage("colocation c1: resource 'ghost' does not exist");
        assertThatThrownBy(() -> ConfigurationEdits.addConstraints(base(), "order svc-then-web svc web"))
            .hasMessage("line 1: order svc-then-web already exists: pick another id");
        assertThatThrownBy(() -> ConfigurationEdits.addConstraints(base(), "order web-then-svc web svc"))
            .hasMessageContaining("mandatory orders form a cycle");
        assertThatThrownBy(() -> ConfigurationEdits.removeConstraint(base(), "nope"))
            .hasMessage("there is no constraint 'nope': 'herd constraint list' shows them");
    }

    @Test
    void resourceTextShowsOneResourceWithWhatItHolds() {
        assertThat(ConfigurationEdits.resourceText(base(), "svc")).isEqualTo("""
            primitive ip ocf:heartbeat:IPaddr2 \\
                params ip=10.0.0.50
            primitive db ocf:heartbeat:Dummy
            group svc ip db
            """);
    }

    @Test
    void applyWorksOnStoredText() {
        String text = ConfigurationEdits.apply(CrmShell.format(base()), c -> ConfigurationEdits.setTargetRole(c, "web", "Stopped"));
        assertThat(text).contains("meta target-role=Stopped");
        assertThat(ConfigurationEdits.apply("", c -> c)).isEmpty();
    }

    private static final String FENCED = """
        primitive ipmi stonith:fence_ipmilan
        primitive psu1 stonith:fence_apc
        primitive psu2 stonith:fence_apc
        fencing_topology n1: psu1 ipmi,psu2 n2: ipmi psu2
        """;

    @Test
    void editsKeepTheFencingTopology() {
        Configuration c = CrmShell.parse(FENCED);
        Configuration edited = roundTrip(ConfigurationEdits.setNodeAttribute(c, NODES, "n1", "standby", "on"));
        assertThat(edited.fencingTopology()).isEqualTo(c.fencingTopology());
        // Once nodes are declared, a level may only name declared nodes: n2 stays declared with n1.
        assertThat(edited.nodes()).extracting(n -> n.uname()).containsExactly("n1", "n2");
        edited = roundTrip(ConfigurationEdits.deleteNodeAttribute(edited, NODES, "n1", "standby"));
        assertThat(edited.nodes()).extracting(n -> n.uname()).containsExactly("n1", "n2");
        edited = roundTrip(ConfigurationEdits.createResources(edited, "primitive web ocf:heartbeat:nginx"));
        assertThat(edited.fencingTopology()).isEqualTo(c.fencingTopology());
        assertThatThrownBy(() -> ConfigurationEdits.createResources(c, "primitive sbd stonith:sbd\nfencing_topology n3: sbd"))
            .hasMessageContaining("'resource create' takes primitive, group, clone and ms statements only");
    }

    @Test
    void deletingAFenceDeviceOfTheTopologyNeedsForceWhichTakesItOutOfItsLevels() {
        Configuration c = CrmShell.parse(FENCED);
        assertThatThrownBy(() -> ConfigurationEdits.deleteResource(c, "psu2", false))
            .hasMessage("psu2 is a device of the fencing topology (n1 level 2, n2 level 2): take it out of fencing_topology "
                + "first, or delete with --force, which takes it out of those levels (a level left without devices is dropped)");
        Configuration forced = roundTrip(ConfigurationEdits.deleteResource(c, "psu1", true));
        assertThat(forced.fencingTopology()).containsExactly(
            new FencingLevel("n1", 1, List.of("ipmi", "psu2")),
            new FencingLevel("n2", 1, List.of("ipmi")),
            new FencingLevel("n2", 2, List.of("psu2")));
    }
}
