package herd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.NodeState;
import herd.scheduler.model.OpRecord;
import herd.scheduler.model.ResourceHistory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The action graph orders group members and order constraints, so an executor can follow it. */
class TransitionOrderingTest {
    private static final long NOW = 1_700_000_000L;

    private static ClusterState state(String crm, Map<String, List<String>> runningByNode) {
        Configuration config = CrmShell.parse(crm);
        List<NodeState> nodes = new ArrayList<>();
        for (String node : List.of("n1", "n2")) {
            List<ResourceHistory> history = new ArrayList<>();
            int call = 1;
            for (var resource : config.resources()) {
                for (String id : ids(resource)) {
                    boolean running = runningByNode.getOrDefault(node, List.of()).contains(id);
                    history.add(new ResourceHistory(id, "ocf", "heartbeat", "Dummy", List.of(new OpRecord(id + "_last_0",
                        running ? "start" : "monitor", 0, running ? 0 : 7, 0, call++, running ? 0 : 7, NOW, NOW, null, null, null, ""))));
                }
            }
            nodes.add(new NodeState(node, node, true, "online", "member", "member", false, Map.of(), history));
        }
        return new ClusterState(CrmShell.parse(crm + "node n1\nnode n2\n"), nodes, true);
    }

    private static List<String> ids(herd.scheduler.model.Resource resource) {
        if (resource instanceof herd.scheduler.model.Group group) {
            return group.members().stream().map(herd.scheduler.model.Primitive::id).toList();
        }
        return List.of(resource.id());
    }

    private static boolean ordered(Transition t, String firstResource, String firstTask, String thenResource, String thenTask) {
        for (int[] order : t.orderings()) {
            Transition.Action before = t.actions().get(order[0]);
            Transition.Action after = t.actions().get(order[1]);
            if (before.resource() != null && after.resource() != null && before.resource().equals(firstResource)
                && before.task().equals(firstTask) && after.resource().equals(thenResource) && after.task().equals(thenTask)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aGroupStartsItsMembersInOrder() {
        String crm = """
            primitive a ocf:heartbeat:Dummy
            primitive b ocf:heartbeat:Dummy
            primitive c ocf:heartbeat:Dummy
            group g a b c
            location prefer-n1 g 100: n1
            """;
        Transition t = Scheduler.schedule(state(crm, Map.of()), NOW);

        assertThat(ordered(t, "a", "start", "b", "start")).isTrue();
        assertThat(ordered(t, "b", "start", "c", "start")).isTrue();
        assertThat(ordered(t, "b", "start", "a", "start")).isFalse();
    }

    @Test
    void aGroupThatMovesStopsInReverseBeforeItStartsInOrder() {
        String crm = """
            primitive a ocf:heartbeat:Dummy
            primitive b ocf:heartbeat:Dummy
            group g a b
            location prefer-n2 g 100: n2
            """;
        Transition t = Scheduler.schedule(state(crm, Map.of("n1", List.of("a", "b"))), NOW);

        assertThat(ordered(t, "b", "stop", "a", "stop")).isTrue();
        assertThat(ordered(t, "a", "stop", "a", "start")).isTrue();
        assertThat(ordered(t, "a", "start", "b", "start")).isTrue();
    }

    @Test
    void anOrderConstraintOrdersStartsAndSymmetricallyStops() {
        String crm = """
            primitive db ocf:heartbeat:Dummy
            primitive web ocf:heartbeat:Dummy
            order db-first Mandatory: db web
            """;
        Transition start = Scheduler.schedule(state(crm, Map.of()), NOW);
        assertThat(ordered(start, "db", "start", "web", "start")).isTrue();

        String stopped = crm + "property stop-all-resources=true\n";
        Transition stop = Scheduler.schedule(state(stopped, Map.of("n1", List.of("db", "web"))), NOW);
        assertThat(stop.actions()).anySatisfy(a -> assertThat(a.task()).isEqualTo("stop"));
        assertThat(ordered(stop, "web", "stop", "db", "stop")).isTrue();
    }
}
