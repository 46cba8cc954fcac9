package herd.coordinator;

import herd.core.cluster.NodeInfo;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.crm.ConfigurationEdits;
import herd.scheduler.crm.ConfigurationEdits.OperatorConstraint;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.Resource;
import herd.scheduler.model.Score;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Why a resource runs where it runs: its placement score on every node (the scheduler's allocation
 * scores) and the reasons it cannot run on some (node offline, standby or in maintenance, bans,
 * fail counts at migration-threshold), plus reasons that hold everywhere (target-role=Stopped).
 * Pure: computed from the configuration, the committed status and the scheduler's transition.
 */
public record Explanation(String resource, List<String> runningOn, String role, List<NodeReason> nodes,
                   List<String> reasons) {
    /** @param score the allocation score, as Pacemaker prints it (INFINITY, -INFINITY or a number) */
    public record NodeReason(String node, String score, List<String> reasons) {}

    /** Schedules the cluster as the committed state has it at {@code nowMillis} and explains {@code resource}. */
    public static Explanation explain(Configuration config, ResourceStatusView view, Resource resource, long nowMillis) {
        Transition transition = Scheduler.schedule(
            SchedulerInput.build(config, view.nodes(), view.statuses(), Fencing.inUse(config)), nowMillis / 1000);
        return of(config, view, transition, resource, nowMillis / 1000);
    }

    public static Explanation of(Configuration config, ResourceStatusView view, Transition transition, Resource resource,
                          long nowSec) {
        String id = resource.id();
        Optional<String> parent = parentId(transition, id);
        Map<String, Integer> scores = scoresOf(transition, id, parent.orElse(null));
        List<String> runningOn = new ArrayList<>();
        String role = "Stopped";
        for (Transition.Placement p : transition.revised()) {
            if (p.resource().equals(id) || id.equals(p.parent()) || p.resource().startsWith(id + ":")) {
                runningOn.addAll(p.currentNodes());
                if (!p.currentNodes().isEmpty()) role = p.currentRole();
            }
        }
        List<NodeReason> nodes = new ArrayList<>();
        for (NodeInfo node : view.nodes()) {
            Integer score = scores.get(node.name());
            nodes.add(new NodeReason(node.name(), score == null ? "-" : Score.format(score),
                nodeReasons(config, view, node.name(), id, parent.orElse(null), nowSec)));
        }
        return new Explanation(id, runningOn.stream().distinct().toList(), role, nodes, generalReasons(config, resource, parent));
    }

    private static Optional<String> parentId(Transition transition, String id) {
        return transition.revised().stream().filter(p -> p.resource().equals(id) && p.parent() != null)
            .map(Transition.Placement::parent).findFirst();
    }

    /** A group is placed as a whole and a clone per instance: the scores are under those ids. */
    private static Map<String, Integer> scoresOf(Transition transition, String id, String parent) {
        Map<String, Map<String, Integer>> all = transition.allocationScores();
        if (all.containsKey(id)) return all.get(id);
        if (parent != null && all.containsKey(parent)) return all.get(parent);
        return all.entrySet().stream().filter(e -> e.getKey().startsWith(id + ":")).map(Map.Entry::getValue)
            .findFirst().orElse(Map.of());
    }

    private static List<String> nodeReasons(Configuration config, ResourceStatusView view, String node, String id,
                                            String parent, long nowSec) {
        List<String> reasons = new ArrayList<>();
        NodeStatus status = view.statuses().stream().filter(s -> s.node().equals(node)).findFirst()
            .orElse(NodeStatus.down(node, "never joined"));
        if (status.membership() != NodeMembership.MEMBER) {
            reasons.add((status.membership() == NodeMembership.LOST ? "lost" : "offline")
                + (status.membershipReason() == null ? "" : " (" + status.membershipReason() + ")"));
        }
        Map<String, String> attributes = config.nodes().stream().filter(n -> n.uname().equals(node)).findFirst()
            .map(NodeConfig::attributes).orElse(Map.of());
        if (Scheduler.isTrue(attributes.get("standby"))) reasons.add("node is in standby");
        if (Scheduler.isTrue(attributes.get("maintenance"))) reasons.add("node is in maintenance");
        List<String> ids = parent == null ? List.of(id) : List.of(id, parent);
        for (OperatorConstraint c : ConfigurationEdits.operatorConstraints(config)) {
            if (!ids.contains(c.resource()) || !node.equals(c.node())) continue;
            String until = c.expires() == null ? "" : c.expiredAt(nowSec) ? " (expired " + c.expires() + ")"
                : " until " + c.expires();
            reasons.add((c.kind().equals("ban") ? "banned by " : "preferred by ") + c.id() + until);
        }
        for (Location l : config.locations()) {
            if (ids.contains(l.resource()) && node.equals(l.node()) && l.score() != null && !l.id().startsWith("cli-")) {
                reasons.add("location " + l.id() + " scores " + Score.format(l.score()));
            }
        }
        int threshold = migrationThreshold(config, id, parent);
        NodeStatus.ResourceHistory history = status.resources().get(id);
        if (history != null && history.totalFailCount() > 0) {
            int failures = history.totalFailCount();
            reasons.add("fail count " + failures + (failures >= threshold
                ? " reached migration-threshold " + threshold + " ('herd resource cleanup " + id + "' forgets it)"
                : " (migration-threshold " + (threshold >= Score.INFINITY ? "INFINITY" : threshold) + ")"));
        }
        return reasons;
    }

    private static int migrationThreshold(Configuration config, String id, String parent) {
        String own = config.find(id).map(r -> r.meta().get("migration-threshold")).orElse(null);
        String inherited = parent == null ? null : config.find(parent).map(r -> r.meta().get("migration-threshold")).orElse(null);
        String text = own != null ? own : inherited != null ? inherited : config.resourceDefaults().get("migration-threshold");
        return Score.parseOr(text, Score.INFINITY);
    }

    private static List<String> generalReasons(Configuration config, Resource resource, Optional<String> parent) {
        List<String> reasons = new ArrayList<>();
        String own = resource.meta().get("target-role");
        String inherited = parent.flatMap(config::find).map(r -> r.meta().get("target-role")).orElse(null);
        if ("Stopped".equalsIgnoreCase(own) || "Stopped".equalsIgnoreCase(inherited)) {
            reasons.add("target-role=Stopped" + ("Stopped".equalsIgnoreCase(own) ? "" : " on " + parent.orElseThrow())
                + ": 'herd resource start " + resource.id() + "' lets it run");
        }
        if (Scheduler.isTrue(config.property("stop-all-resources", "false"))) reasons.add("stop-all-resources=true");
        if (Scheduler.isTrue(config.property("maintenance-mode", "false"))) reasons.add("maintenance-mode=true");
        if (resource.meta().containsKey("is-managed") && !Scheduler.isTrue(resource.meta().get("is-managed"))) {
            reasons.add("is-managed=false: the cluster leaves it alone");
        }
        return reasons;
    }
}
