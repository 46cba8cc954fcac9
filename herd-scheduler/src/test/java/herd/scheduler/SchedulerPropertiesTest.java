package herd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Colocation;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.NodeState;
import herd.scheduler.model.OpRecord;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.scheduler.model.ResourceHistory;
import herd.scheduler.model.Score;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants that hold for every cluster the generator can build. */
class SchedulerPropertiesTest {

    /** A generated cluster: nodes, primitives (some running), location scores, anti-colocations, one clone. */
    record Cluster(ClusterState state, Map<String, Map<String, Integer>> locationScores) {}

    @Property(tries = 200)
    void neverPlacedOnAMinusInfinityNode(@ForAll("clusters") Cluster c) {
        Transition t = Scheduler.schedule(c.state(), 1_700_000_000L);
        for (Transition.Placement p : t.revised()) {
            if (p.nextNode() == null) continue;
            String base = p.resource().contains(":") ? p.resource().substring(0, p.resource().indexOf(':')) : p.resource();
            int score = c.locationScores().getOrDefault(base, Map.of()).getOrDefault(p.nextNode(), 0);
            assertThat(score).as(p.resource() + " placed on " + p.nextNode()).isNotEqualTo(-Score.INFINITY);
        }
    }

    @Property(tries = 200)
    void anExclusiveResourceNeverGetsTwoActiveInstances(@ForAll("clusters") Cluster c) {
        Transition t = Scheduler.schedule(c.state(), 1_700_000_000L);
        Map<String, Integer> active = new HashMap<>();
        for (Transition.Placement p : t.revised()) {
            if (p.nextNode() != null && p.parent() == null) active.merge(p.resource(), 1, Integer::sum);
        }
        active.forEach((rsc, n) -> assertThat(n).as(rsc + " active instances").isEqualTo(1));
        // and a clone never puts two instances on one node (clone-node-max is 1)
        Map<String, Integer> perNode = new HashMap<>();
        for (Transition.Placement p : t.revised()) {
            if (p.nextNode() != null && p.parent() != null) perNode.merge(p.parent() + "@" + p.nextNode(), 1, Integer::sum);
        }
        perNode.forEach((k, n) -> assertThat(n).as(k).isEqualTo(1));
    }

    @Property(tries = 100)
    void outputIsDeterministic(@ForAll("clusters") Cluster c) {
        Transition a = Scheduler.schedule(c.state(), 1_700_000_000L);
        Transition b = Scheduler.schedule(c.state(), 1_700_000_000L);
        assertThat(render(a)).isEqualTo(render(b));
    }

    private static String render(Transition t) {
        StringBuilder sb = new StringBuilder();
        t.changes().forEach(x -> sb.append(x).append('\n'));
        t.actions().forEach(x -> sb.append(x).append('\n'));
        t.allocationScores().forEach((k, v) -> sb.append(k).append(v).append('\n'));
        t.promotionScores().forEach((k, v) -> sb.append(k).append(v).append('\n'));
        t.revised().forEach(x -> sb.append(x).append('\n'));
        return sb.toString();
    }

    @Provide
    Arbitrary<Cluster> clusters() {
        Arbitrary<Integer> nodeCount = Arbitraries.integers().between(1, 5);
        Arbitrary<Integer> rscCount = Arbitraries.integers().between(1, 6);
        Arbitrary<List<Integer>> scores = Arbitraries.of(-Score.INFINITY, -100, 0, 50, 200, Score.INFINITY)
                .list().ofSize(30);
        Arbitrary<List<Integer>> running = Arbitraries.integers().between(-1, 4).list().ofSize(6);
        Arbitrary<List<Boolean>> anti = Arbitraries.of(true, false).list().ofSize(6);
        return Combinators.combine(nodeCount, rscCount, scores, running, anti).as(SchedulerPropertiesTest::build);
    }

    private static Cluster build(int nodeCount, int rscCount, List<Integer> scores, List<Integer> running, List<Boolean> anti) {
        List<NodeConfig> nodes = new ArrayList<>();
        for (int n = 0; n < nodeCount; n++) nodes.add(new NodeConfig("n" + n, "n" + n, "member", Map.of(), Map.of(), null));
        List<Resource> resources = new ArrayList<>();
        List<Location> locations = new ArrayList<>();
        List<Colocation> colocations = new ArrayList<>();
        Map<String, Map<String, Integer>> locScores = new HashMap<>();
        Map<String, List<ResourceHistory>> history = new HashMap<>();
        int k = 0;
        for (int r = 0; r < rscCount; r++) {
            String id = "r" + r;
            resources.add(primitive(id));
            for (int n = 0; n < nodeCount; n++) {
                int score = scores.get(k++ % scores.size());
                if (score == 0) continue;
                locations.add(new Location("l-" + id + "-n" + n, id, null, "n" + n, score, null, List.of(), null));
                locScores.computeIfAbsent(id, x -> new HashMap<>()).merge("n" + n, score, Score::add);
            }
            int where = running.get(r);
            if (where >= 0 && where < nodeCount) {
                history.computeIfAbsent("n" + where, x -> new ArrayList<>()).add(new ResourceHistory(id, "ocf", "heartbeat", "Dummy",
                        List.of(new OpRecord(id + "_start_0", "start", 0, 0, 0, 1, 0, 0, 0, null, null, null, null))));
            }
            if (r > 0 && anti.get(r)) colocations.add(new Colocation("c-" + id, id, "r" + (r - 1), -Score.INFINITY, null, null, true));
        }
        resources.add(new Clone("cl", Map.of(), primitive("cp"), false));
        for (int n = 0; n < nodeCount; n++) {
            int score = scores.get((k + n) % scores.size());
            if (score == 0) continue;
            locations.add(new Location("l-cl-n" + n, "cl", null, "n" + n, score, null, List.of(), null));
            locScores.computeIfAbsent("cp", x -> new HashMap<>()).merge("n" + n, score, Score::add);
        }
        List<NodeState> states = new ArrayList<>();
        for (NodeConfig n : nodes) {
            states.add(new NodeState(n.id(), n.uname(), true, "online", "member", "member", false, Map.of(),
                    history.getOrDefault(n.uname(), List.of())));
        }
        Configuration config = new Configuration(Map.of("fencing-enabled", "false"), Map.of(), Map.of(), nodes, resources,
                locations, colocations, List.of(), List.of());
        return new Cluster(new ClusterState(config, states, true), locScores);
    }

    private static Primitive primitive(String id) {
        return new Primitive(id, "ocf", "heartbeat", "Dummy", Map.of(), Map.of(), List.of(), Map.of());
    }
}
