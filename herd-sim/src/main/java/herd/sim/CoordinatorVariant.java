package herd.sim;

import herd.coordinator.Coordinator;
import herd.coordinator.Decisions;
import herd.coordinator.NotificationMemory;
import herd.core.command.Command;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * The leader's decision function the simulation drives: {@link #REAL} is herd's coordinator;
 * {@link #FORGETS_ACTIONS_IN_FLIGHT} and {@link #RECOVERS_WITHOUT_WAITING} are deliberately unsafe,
 * to prove the invariant checker catches what they break.
 */
@FunctionalInterface
public interface CoordinatorVariant {
    /** @param notifications the leader's memory of clone notifications (see herd.coordinator.CloneNotifications) */
    Decisions decide(Coordinator.Input input, NotificationMemory notifications);

    CoordinatorVariant REAL = Coordinator::decide;

    /**
     * UNSAFE: the coordinator without its knowledge of actions in flight. A start still running is
     * invisible to the scheduler, so a node joining meanwhile gets the same exclusive resource started
     * too (seed 55): why the coordinator sends one wave of actions at a time.
     */
    CoordinatorVariant FORGETS_ACTIONS_IN_FLIGHT = (input, notifications) -> Coordinator.decide(new Coordinator.Input(
        input.config(), input.view(), input.lastAckedHeartbeatMillis(), input.leaderSinceMillis(), input.nowMillis(),
        java.util.Set.of(), input.fencingInFlight(), input.settings(), input.heardBootIds(), input.previousLeader()), notifications);

    /**
     * UNSAFE: the coordinator deaf to boot ids. A node that rebooted before it was found lost keeps,
     * in the state, what it ran before, and nothing starts it again (seed 143).
     */
    CoordinatorVariant IGNORES_BOOT_IDS = (input, notifications) -> Coordinator.decide(new Coordinator.Input(
        input.config(), input.view(), input.lastAckedHeartbeatMillis(), input.leaderSinceMillis(), input.nowMillis(),
        input.actionsInFlight(), input.fencingInFlight(), input.settings(), java.util.Map.of(), input.previousLeader()),
        notifications);

    /**
     * UNSAFE: declares a lost node down at once, without waiting for its lease to expire or for it to
     * be fenced, so its resources are started elsewhere while it may still run them.
     */
    CoordinatorVariant RECOVERS_WITHOUT_WAITING = (input, notifications) -> {
        List<Command> premature = new ArrayList<>();
        for (NodeStatus status : input.view().statuses()) {
            if (status.membership() == NodeMembership.LOST) {
                premature.add(new Command.SetNodeMembership(status.node(), NodeMembership.DOWN, "recovered without waiting"));
            }
        }
        if (premature.isEmpty()) {
            return REAL.decide(input, notifications);
        }
        return new Decisions(premature, List.of(), List.of(), null, List.of());
    };
}
