package herd.coordinator;

import herd.core.command.Command;
import herd.scheduler.Transition;
import java.util.List;

/**
 * What the leader should do now. Membership changes come alone: actions are computed again once
 * they are committed, so nothing is sent to a node in the same breath as it is declared lost.
 *
 * @param membershipChanges commands to commit (SetNodeMembership)
 * @param actions           operations to send to nodes, in graph order
 * @param fences            nodes to fence
 * @param transition        the scheduler's transition the actions come from, or null with membership changes
 * @param waiting           one line per action held back and why, for status and logs
 */
public record Decisions(List<Command> membershipChanges, List<ActionRequest> actions, List<FenceRequest> fences,
                        Transition transition, List<String> waiting) {
    public Decisions {
        membershipChanges = List.copyOf(membershipChanges);
        actions = List.copyOf(actions);
        fences = List.copyOf(fences);
        waiting = List.copyOf(waiting);
    }

    public boolean idle() {
        return membershipChanges.isEmpty() && actions.isEmpty() && fences.isEmpty();
    }
}
