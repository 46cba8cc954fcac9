package herd.coordinator;

import herd.core.cluster.NodeInfo;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.FencingEvent;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.core.resource.OperationRecord;
import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.NodeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code herd status} shows, in crm_mon's terms: nodes, where each resource runs, failed actions,
 * fail counts and fencing history. Pure: computed from the committed state and the configuration.
 */
public record StatusReport(String clusterName, String leader, long configurationVersion, boolean fencingInUse,
                           List<NodeLine> nodes, List<ResourceLine> resources, List<FailedAction> failedActions,
                           List<FailCount> failCounts, List<FencingEvent> fencingHistory) {

    /** @param state online, standby, maintenance, offline, or lost (UNCLEAN until fenced or its lease expires) */
    public record NodeLine(String name, String role, String state, String reason) {}

    /** @param role Started, Stopped, Promoted, Unpromoted; {@code nodes} where it is active now */
    public record ResourceLine(String id, String parent, String agent, String role, List<String> nodes, boolean failed,
                               boolean managed) {}

    public record FailedAction(String resource, String operation, long intervalMillis, String node, int rc, String rcText,
                               int execStatus, String exitReason, long epochMillis) {}

    public record FailCount(String node, String resource, String operation, int count) {}

    public static StatusReport of(String clusterName, String leader, Configuration config, ResourceStatusView view,
                                  long nowMillis) {
        boolean fencingInUse = Fencing.inUse(config);
        Transition transition = Scheduler.schedule(
            SchedulerInput.build(config, view.nodes(), view.statuses(), fencingInUse), nowMillis / 1000);
        List<ResourceLine> resources = new ArrayList<>();
        for (Transition.Placement placement : transition.revised()) {
            resources.add(new ResourceLine(placement.resource(), placement.parent(), placement.agent(), placement.currentRole(),
                placement.currentNodes(), placement.failed(), placement.managed()));
        }
        List<FailedAction> failedActions = new ArrayList<>();
        List<FailCount> failCounts = new ArrayList<>();
        for (NodeStatus status : view.statuses()) {
            for (NodeStatus.ResourceHistory history : status.resources().values()) {
                OperationRecord failure = history.operations().get(NodeStatus.ResourceHistory.LAST_FAILURE);
                if (failure != null) {
                    failedActions.add(new FailedAction(failure.resource(), failure.operation(), failure.intervalMillis(),
                        status.node(), failure.rc(), rcText(failure.rc()), failure.execStatus(), failure.exitReason(),
                        failure.endedEpochMillis()));
                }
                history.failCounts().forEach((operation, count) ->
                    failCounts.add(new FailCount(status.node(), history.resource(), operation, count)));
            }
        }
        return new StatusReport(clusterName, leader, view.configurationVersion(), fencingInUse, nodeLines(config, view),
            resources, failedActions, failCounts, view.fencingHistory());
    }

    private static List<NodeLine> nodeLines(Configuration config, ResourceStatusView view) {
        List<NodeLine> lines = new ArrayList<>();
        for (NodeInfo node : view.nodes()) {
            NodeStatus status = view.statuses().stream().filter(s -> s.node().equals(node.name())).findFirst()
                .orElse(NodeStatus.down(node.name(), "never joined"));
            Map<String, String> attributes = config.nodes().stream().filter(c -> c.uname().equals(node.name()))
                .findFirst().map(NodeConfig::attributes).orElse(Map.of());
            lines.add(new NodeLine(node.name(), node.role().name().toLowerCase(), nodeState(status, attributes),
                status.membershipReason()));
        }
        return lines;
    }

    private static String nodeState(NodeStatus status, Map<String, String> attributes) {
        if (status.membership() == NodeMembership.LOST) {
            return "lost";
        }
        if (status.membership() == NodeMembership.DOWN) {
            return "offline";
        }
        if (Scheduler.isTrue(attributes.get("maintenance"))) {
            return "maintenance";
        }
        return Scheduler.isTrue(attributes.get("standby")) ? "standby" : "online";
    }

    /** The OCF exit codes' names, as crm_mon prints them. */
    public static String rcText(int rc) {
        return switch (rc) {
            case 0 -> "ok";
            case 1 -> "error";
            case 2 -> "invalid parameter";
            case 3 -> "unimplemented feature";
            case 4 -> "insufficient privileges";
            case 5 -> "not installed";
            case 6 -> "not configured";
            case 7 -> "not running";
            case 8 -> "promoted";
            case 9 -> "promoted (failed)";
            default -> "rc " + rc;
        };
    }
}
