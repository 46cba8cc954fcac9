package herd.scheduler.model;

import java.util.List;
import java.util.Map;

/**
 * A node's reported state: membership flags as the cluster layer and controller saw them, its transient
 * attributes (fail counts, promotion scores, ...) and its resources' operation history.
 *
 * @param inCluster the node is a member of the cluster layer (in_ccm)
 * @param peer      "online" or "offline": the controller process (crmd)
 * @param join      down, pending, member, banned
 * @param expected  the join state the DC expects (member or down)
 */
public record NodeState(String id, String uname, boolean inCluster, String peer, String join, String expected,
                        boolean terminate, Map<String, String> transientAttributes,
                        List<ResourceHistory> history) {
    public NodeState {
        transientAttributes = Maps.copy(transientAttributes);
        history = List.copyOf(history);
    }
}
