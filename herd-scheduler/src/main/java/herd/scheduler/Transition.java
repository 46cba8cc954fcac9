package herd.scheduler;

import java.util.List;
import java.util.Map;

/**
 * What the scheduler decided: the actions (with their orderings), the summary of changes per resource,
 * the fencing of nodes, the scores behind every placement, and the state the cluster should reach.
 *
 * @param changes            one line per resource whose state changes, in crm_simulate's vocabulary
 * @param actions            every action in execution order (a topological order of {@code orderings})
 * @param orderings          pairs of action ids: the first must complete before the second starts
 * @param allocationScores   per resource (or instance) id, node name to score, in allocation order
 * @param promotionScores    per promotable instance id, its promotion score on its node
 * @param revised            the state after the transition, one entry per resource instance
 */
public record Transition(List<Change> changes, List<Action> actions, List<int[]> orderings,
                         Map<String, Map<String, Integer>> allocationScores, Map<String, Integer> promotionScores,
                         List<Placement> revised) {

    /** One summary line: "Start", "Stop", "Move", "Recover", "Restart", "Promote", "Demote", "Migrate", "Fence". */
    public record Change(String kind, String resource, String details, String reason) {}

    /**
     * One action of the graph.
     *
     * @param task     start, stop, promote, demote, monitor, notify, migrate_to, migrate_from, stonith, or a
     *                 clone/group pseudo action such as running/stopped
     * @param node     the node it runs on, null for pseudo actions
     * @param meta     what the agent is told besides its parameters: for a clone notification, Pacemaker's
     *                 notify_type, notify_operation and the notify_*_resource / notify_*_uname lists
     *                 (space-separated, " " when empty); empty for other actions
     */
    public record Action(int id, String resource, String task, long intervalMs, String node, boolean pseudo,
                         boolean runnable, String reason, Map<String, String> meta) {
        public Action {
            meta = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(meta));
        }

        public Action(int id, String resource, String task, long intervalMs, String node, boolean pseudo,
                      boolean runnable, String reason) {
            this(id, resource, task, intervalMs, node, pseudo, runnable, reason, Map.of());
        }

        /** The same action under another id (the builder renumbers actions into execution order). */
        Action withId(int newId) {
            return new Action(newId, resource, task, intervalMs, node, pseudo, runnable, reason, meta);
        }
    }

    /** Where a resource instance is (current) and will be (next). */
    public record Placement(String resource, String parent, String agent, List<String> currentNodes, String currentRole,
                            String nextNode, String nextRole, boolean failed, boolean managed) {}
}
