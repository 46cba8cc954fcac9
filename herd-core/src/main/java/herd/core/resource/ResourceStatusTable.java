package herd.core.resource;

import herd.core.ErrorCode;
import herd.core.Rejection;
import herd.core.resource.NodeStatus.ResourceHistory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The status part of the cluster state: every node's membership and resource history, and the
 * recent fencing results. Mutable, owned by {@link herd.core.ClusterState}, which checks that the
 * nodes exist before calling in.
 */
public final class ResourceStatusTable {
    /** Fencing results kept for status; older ones are dropped. */
    public static final int FENCING_HISTORY_MAX = 50;

    private final Map<String, NodeStatus> byNode = new TreeMap<>();
    private final Deque<FencingEvent> fencingHistory = new ArrayDeque<>();

    public NodeStatus status(String node) {
        NodeStatus status = byNode.get(node);
        return status != null ? status : NodeStatus.down(node, "never joined");
    }

    public List<NodeStatus> all() {
        return List.copyOf(byNode.values());
    }

    public List<FencingEvent> fencingHistory() {
        return List.copyOf(fencingHistory);
    }

    /**
     * Records results reported by a node's executor. Refused from a node that is not a member: once
     * the leader has declared it lost, what it says is stale until it rejoins and probes again.
     */
    public Optional<Rejection> record(String node, List<OperationRecord> operations) {
        NodeStatus status = status(node);
        if (status.membership() != NodeMembership.MEMBER) {
            return Optional.of(new Rejection(ErrorCode.UNAVAILABLE, "node '" + node + "' is "
                + status.membership().name().toLowerCase() + " (" + status.membershipReason()
                + "): its results are not recorded until it rejoins"));
        }
        Map<String, ResourceHistory> resources = new TreeMap<>(status.resources());
        for (OperationRecord operation : operations) {
            ResourceHistory before = resources.get(operation.resource());
            ResourceHistory after = withOperation(before, operation);
            if (after == null) {
                resources.remove(operation.resource());
            } else {
                resources.put(operation.resource(), after);
            }
        }
        byNode.put(node, new NodeStatus(node, status.membership(), status.membershipReason(), resources, status.bootId()));
        return Optional.empty();
    }

    /** The history after one more operation, or null when nothing is left of it. */
    static ResourceHistory withOperation(ResourceHistory before, OperationRecord operation) {
        Map<String, OperationRecord> operations = before == null ? new HashMap<>() : new HashMap<>(before.operations());
        Map<String, Integer> failCounts = before == null ? new HashMap<>() : new HashMap<>(before.failCounts());
        long lastFailure = before == null ? 0 : before.lastFailureEpochMillis();
        String slot = operation.isRecurring() ? operation.operationName() : ResourceHistory.LAST;
        OperationRecord previous = operations.get(slot);
        if (previous != null && previous.callId() > operation.callId()) {
            return before; // a late report of an older call: the newer result stands
        }
        if (operation.isRecurring() && operation.execStatus() == OperationRecord.EXEC_CANCELLED) {
            operations.remove(slot);
        } else {
            operations.put(slot, operation);
        }
        if (operation.isFailure()) {
            operations.put(ResourceHistory.LAST_FAILURE, operation);
            failCounts.merge(operation.operationName(), 1, Integer::sum);
            lastFailure = Math.max(lastFailure, operation.endedEpochMillis());
        }
        if ("stop".equals(operation.operation()) && !operation.isFailure()) {
            // A stopped resource's recurring monitors are cancelled with it, as Pacemaker does.
            operations.keySet().removeIf(key -> !key.equals(ResourceHistory.LAST) && !key.equals(ResourceHistory.LAST_FAILURE));
        }
        if (operations.isEmpty() && failCounts.isEmpty()) {
            return null;
        }
        return new ResourceHistory(operation.resource(), operation.agent(), operations, failCounts, lastFailure);
    }

    /**
     * Changes a node's membership. A lost node only leaves that state by being fenced or by its lease
     * expiring (DOWN), never straight back to MEMBER: it may still run what it ran. DOWN erases its
     * history, since its resources are known stopped.
     */
    public Optional<Rejection> setMembership(String node, NodeMembership membership, String reason, String bootId) {
        NodeStatus status = status(node);
        if (status.membership() == NodeMembership.LOST && membership == NodeMembership.MEMBER) {
            return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, "node '" + node + "' is lost ("
                + status.membershipReason() + "): it rejoins only after it was fenced, its lease expired or it rebooted"));
        }
        Map<String, ResourceHistory> resources = membership == NodeMembership.DOWN ? Map.of() : status.resources();
        // a member's boot id is the one it heartbeats with; a lost or down node keeps the last one known
        String keptBootId = membership == NodeMembership.MEMBER && bootId != null ? bootId : status.bootId();
        byNode.put(node, new NodeStatus(node, membership, reason, resources, keptBootId));
        return Optional.empty();
    }

    /** Keeps a fencing result; a success also marks the node down. */
    public void recordFencing(FencingEvent event) {
        fencingHistory.addLast(event);
        while (fencingHistory.size() > FENCING_HISTORY_MAX) {
            fencingHistory.removeFirst();
        }
        if (event.succeeded()) {
            NodeStatus before = status(event.target());
            byNode.put(event.target(), new NodeStatus(event.target(), NodeMembership.DOWN, "fenced: " + event.detail(), Map.of(),
                before.bootId()));
        }
    }

    /**
     * Forgets a resource's history and fail counts, on one node or (node null) everywhere, so the
     * coordinator probes it again: what {@code crm_resource --cleanup} does. Returns the nodes touched.
     */
    public List<String> cleanup(String resource, String node) {
        List<String> touched = new ArrayList<>();
        for (NodeStatus status : List.copyOf(byNode.values())) {
            if ((node == null || node.equals(status.node())) && status.resources().containsKey(resource)) {
                Map<String, ResourceHistory> resources = new TreeMap<>(status.resources());
                resources.remove(resource);
                byNode.put(status.node(), new NodeStatus(status.node(), status.membership(), status.membershipReason(), resources,
                    status.bootId()));
                touched.add(status.node());
            }
        }
        return touched;
    }

    public void forget(String node) {
        byNode.remove(node);
    }

    public void load(List<NodeStatus> statuses, List<FencingEvent> fencing) {
        byNode.clear();
        fencingHistory.clear();
        for (NodeStatus status : statuses) {
            byNode.put(status.node(), status);
        }
        fencingHistory.addAll(fencing);
    }
}
