package herd.scheduler.model;

import java.util.List;
import java.util.Map;

/**
 * What the scheduler decides from: the configuration and each node's reported state.
 *
 * @param tickets granted state of each ticket (true: granted); absent tickets are not granted
 * @param standbyTickets tickets in standby
 */
public record ClusterState(Configuration config, List<NodeState> nodeStates, boolean haveQuorum,
                           Map<String, Boolean> tickets, java.util.Set<String> standbyTickets) {
    public ClusterState {
        nodeStates = List.copyOf(nodeStates);
        tickets = Maps.copy(tickets);
        standbyTickets = java.util.Set.copyOf(standbyTickets);
    }

    public ClusterState(Configuration config, List<NodeState> nodeStates, boolean haveQuorum) {
        this(config, nodeStates, haveQuorum, Map.of(), java.util.Set.of());
    }
}
