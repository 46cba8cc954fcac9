package herd.coordinator;

import herd.core.cluster.NodeInfo;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.core.resource.OperationRecord;
import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.NodeState;
import herd.scheduler.model.OpRecord;
import herd.scheduler.model.ResourceHistory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates herd's committed status into the scheduler's Pacemaker-shaped input: every node with
 * its membership flags, transient attributes (fail counts, last failures) and operation history.
 */
public final class SchedulerInput {
    private SchedulerInput() {}

    /**
     * @param fencingInUse when false, a lost node is shown as still running what it ran (frozen) until
     *                     its lease expires and the leader marks it down; the scheduler is also told
     *                     that fencing is off, so it never plans a fence it cannot carry out
     */
    public static ClusterState build(Configuration config, List<NodeInfo> nodes, List<NodeStatus> statuses,
                                     boolean fencingInUse) {
        Map<String, NodeStatus> statusByNode = new HashMap<>();
        statuses.forEach(status -> statusByNode.put(status.node(), status));
        List<NodeConfig> nodeConfigs = new ArrayList<>(config.nodes());
        for (NodeInfo node : nodes) {
            if (nodeConfigs.stream().noneMatch(c -> c.uname().equals(node.name()))) {
                nodeConfigs.add(new NodeConfig(node.name(), node.name(), "member", Map.of(), Map.of(), null));
            }
        }
        Map<String, String> properties = new LinkedHashMap<>(config.properties());
        if (!fencingInUse) {
            properties.put("stonith-enabled", "false");
        }
        Configuration effective = config.withProperties(properties).withNodes(nodeConfigs);
        List<NodeState> nodeStates = new ArrayList<>();
        for (NodeConfig node : nodeConfigs) {
            NodeStatus status = statusByNode.getOrDefault(node.uname(), NodeStatus.down(node.uname(), "never joined"));
            nodeStates.add(nodeState(node, status, fencingInUse));
        }
        // The leader only runs this with a majority of servers behind it: the minority has no leader.
        return new ClusterState(effective, nodeStates, true);
    }

    private static NodeState nodeState(NodeConfig node, NodeStatus status, boolean fencingInUse) {
        NodeMembership membership = status.membership();
        boolean frozenLost = membership == NodeMembership.LOST && !fencingInUse;
        boolean member = membership == NodeMembership.MEMBER || frozenLost;
        boolean unclean = membership == NodeMembership.LOST && fencingInUse;
        Map<String, String> attributes = new LinkedHashMap<>();
        List<ResourceHistory> history = new ArrayList<>();
        for (NodeStatus.ResourceHistory resource : status.resources().values()) {
            history.add(history(resource));
            resource.failCounts().forEach((operation, count) ->
                attributes.put("fail-count-" + resource.resource() + "#" + operation, Integer.toString(count)));
            if (resource.lastFailureEpochMillis() > 0) {
                for (String operation : resource.failCounts().keySet()) {
                    attributes.put("last-failure-" + resource.resource() + "#" + operation,
                        Long.toString(resource.lastFailureEpochMillis() / 1000));
                }
            }
        }
        return new NodeState(node.id(), node.uname(), member, member ? "online" : "offline", member ? "member" : "down",
            member || unclean ? "member" : "down", false, attributes, history);
    }

    private static ResourceHistory history(NodeStatus.ResourceHistory resource) {
        String[] agent = resource.agent().split(":", 3);
        String agentClass = agent[0];
        String provider = agent.length == 3 ? agent[1] : null;
        String type = agent[agent.length - 1];
        // Executors number calls with large increasing longs (they survive restarts); the scheduler only
        // needs their order, so each record gets its rank among this resource's calls.
        List<Long> callIds = resource.operations().values().stream().map(OperationRecord::callId).distinct().sorted().toList();
        List<OpRecord> ops = new ArrayList<>();
        resource.operations().forEach((slot, operation) ->
            ops.add(opRecord(slot, operation, 1 + callIds.indexOf(operation.callId()))));
        return new ResourceHistory(resource.resource(), agentClass, provider, type, ops);
    }

    private static OpRecord opRecord(String slot, OperationRecord operation, int callRank) {
        long endedSec = operation.endedEpochMillis() / 1000;
        return new OpRecord(operation.resource() + "_" + slot + "_0", operation.operation(), operation.intervalMillis(),
            operation.rc(), operation.execStatus(), callRank, operation.expectedRc(), endedSec, endedSec, null, null, null,
            operation.exitReason());
    }
}
