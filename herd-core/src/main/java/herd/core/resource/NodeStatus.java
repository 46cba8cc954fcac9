package herd.core.resource;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One node's liveness and the history of every resource on it.
 *
 * @param membership       what the leader last committed
 * @param membershipReason why (e.g. "no heartbeat for 1500 ms", "fenced by fence-ipmi")
 * @param resources        per resource id, its history on this node
 * @param bootId           the boot id the node heartbeated with when it last became a member (null:
 *                         unknown); kept while it is lost, so that a reboot since can be recognised
 */
public record NodeStatus(String node, NodeMembership membership, String membershipReason,
                         Map<String, ResourceHistory> resources, String bootId) {

    public NodeStatus {
        resources = new TreeMap<>(resources);
    }

    public NodeStatus(String node, NodeMembership membership, String membershipReason, Map<String, ResourceHistory> resources) {
        this(node, membership, membershipReason, resources, null);
    }

    public static final String BOOT_ID_RULE =
        "a boot id must be 1 to 64 printable characters without spaces (a Linux boot id is a UUID)";

    /** Linux boot ids are UUIDs; anything printable up to 64 characters is accepted. */
    public static boolean validBootId(String bootId) {
        return bootId != null && !bootId.isEmpty() && bootId.length() <= 64 && bootId.chars().allMatch(c -> c > ' ' && c < 127);
    }

    /** A node that never joined, or whose resources are known stopped. */
    public static NodeStatus down(String node, String reason) {
        return new NodeStatus(node, NodeMembership.DOWN, reason, Map.of());
    }

    /**
     * True when a lost node has provably rebooted since it was last a member: it now heartbeats with
     * another boot id than the one recorded then. Nothing survives a reboot, so it runs nothing.
     */
    public boolean rebootedSince(String heardBootId) {
        return bootId != null && heardBootId != null && !heardBootId.isEmpty() && !bootId.equals(heardBootId);
    }

    /**
     * What Pacemaker keeps of one resource on one node: the last one-off operation ("last"), the last
     * failure ("last_failure") and the latest result of each recurring monitor ("monitor_10000"),
     * plus the fail count per operation ("start_0", "monitor_10000") and when the last failure ended.
     */
    public record ResourceHistory(String resource, String agent, Map<String, OperationRecord> operations,
                                  Map<String, Integer> failCounts, long lastFailureEpochMillis) {
        public static final String LAST = "last";
        public static final String LAST_FAILURE = "last_failure";

        public ResourceHistory {
            operations = new TreeMap<>(operations);
            failCounts = new TreeMap<>(failCounts);
        }

        public List<OperationRecord> records() {
            return List.copyOf(operations.values());
        }

        public int totalFailCount() {
            return failCounts.values().stream().mapToInt(Integer::intValue).sum();
        }
    }
}
