package herd.coordinator;

import herd.core.command.Command;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.Transition.Action;
import herd.scheduler.cib.Durations;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Operation;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The leader's decisions about resources, as a pure function of the committed state, the heartbeats
 * it has acknowledged and the time. Called again after every commit and on a timer; actions that
 * completed show up in the state as operation history, so each call continues the transition where
 * the previous one left off, also on a new leader.
 */
public final class Coordinator {
    /** Timeout of an operation whose configuration names none, as in Pacemaker. */
    public static final long DEFAULT_OPERATION_TIMEOUT_MILLIS = 20_000;

    private Coordinator() {}

    /**
     * @param config                  the parsed resource configuration
     * @param view                    the committed nodes and their status
     * @param lastAckedHeartbeatMillis per node, when this leader last acknowledged its heartbeat
     * @param leaderSinceMillis       when this server became leader: no heartbeat was acknowledged by anyone
     *                                after it but by this leader, so it is the floor of every lease
     * @param actionsInFlight         keys of actions sent and not yet recorded
     * @param fencingInFlight         nodes being fenced now
     * @param heardBootIds            per node, the boot id of its latest heartbeat to this leader (a lost
     *                                node's too, which is not acknowledged); absent when it gave none
     * @param previousLeader          the server that led before this one and when this one last heard from
     *                                it, as its follower; null when unknown
     */
    public record Input(Configuration config, ResourceStatusView view, Map<String, Long> lastAckedHeartbeatMillis,
                        long leaderSinceMillis, long nowMillis, Set<String> actionsInFlight, Set<String> fencingInFlight,
                        CoordinatorSettings settings, Map<String, String> heardBootIds, PreviousLeader previousLeader) {}

    /** A server that led before, and when the current leader last heard from it (its own node's last sign of life). */
    public record PreviousLeader(String node, long lastHeardMillis) {}

    /** Decides without delivering clone notifications: they pass like pseudo actions. */
    public static Decisions decide(Input in) {
        return decide(in, null);
    }

    /**
     * @param notifications the leader's memory of clone notifications, kept from one decision to the
     *                      next and emptied when another server leads; null: none are delivered
     */
    public static Decisions decide(Input in, NotificationMemory notifications) {
        boolean fencingInUse = Fencing.inUse(in.config());
        List<Command> membership = new ArrayList<>();
        List<FenceRequest> fences = new ArrayList<>();
        for (NodeStatus status : in.view().statuses()) {
            livenessVerdict(in, status, fencingInUse, fences).ifPresent(membership::add);
        }
        membership.addAll(removedNodesToForget(in));
        if (!membership.isEmpty()) {
            return new Decisions(membership, List.of(), dueNow(in, fences), null, List.of());
        }
        Transition transition = Scheduler.schedule(
            SchedulerInput.build(in.config(), in.view().nodes(), in.view().statuses(), fencingInUse), in.nowMillis() / 1000);
        List<ActionRequest> actions = new ArrayList<>();
        List<String> waiting = new ArrayList<>();
        CloneNotifications notifying = new CloneNotifications(in, transition, notifications);
        collectGraphActions(in, transition, fencingInUse, notifying, actions, fences, waiting);
        actions.addAll(notifying.owedToSend());
        collectRecurringMonitors(in, transition, actions);
        return new Decisions(List.of(), actions, dueNow(in, dedupe(fences)), transition, waiting);
    }

    /**
     * A lost node is fenced only once it has been silent for a node-lost period as this leader counts
     * (see {@link #silentMillis}): a node lost under an earlier leader gets that long to show, by its
     * boot id, that it has rebooted since (its fence may have worked without being recorded), so that
     * a small cluster does not fence, one after the other as they boot, the very servers its majority
     * needs. A node this leader finds lost itself has been silent that long already.
     */
    private static List<FenceRequest> dueNow(Input in, List<FenceRequest> fences) {
        return fences.stream().filter(fence -> {
            NodeStatus target = statusOf(in, fence.target());
            return target == null || target.membership() != NodeMembership.LOST
                || silentMillis(in, fence.target()) > in.settings().nodeLostAfterMillis();
        }).toList();
    }

    // ------------------------------------------------------------------ liveness

    private static Optional<Command> livenessVerdict(Input in, NodeStatus status, boolean fencingInUse,
                                                     List<FenceRequest> fences) {
        String node = status.node();
        Long acked = in.lastAckedHeartbeatMillis().get(node);
        long silentMillis = silentMillis(in, node);
        // A lease is counted from when this leader took over at the earliest: before that, an earlier
        // leader may have acknowledged the node (see leaderSinceMillis).
        long leaseSilentMillis = in.nowMillis() - Math.max(acked == null ? Long.MIN_VALUE : acked, in.leaderSinceMillis());
        CoordinatorSettings settings = in.settings();
        return switch (status.membership()) {
            case MEMBER -> {
                String heardBootId = in.heardBootIds().get(node);
                if (status.rebootedSince(heardBootId)) {
                    // Rebooted faster than it could be found lost: what the state says runs there is gone,
                    // and the boot id to recognise its next reboot by is the new one (down, then member).
                    yield Optional.of(new Command.SetNodeMembership(node, NodeMembership.DOWN, "rebooted (boot id "
                        + heardBootId + ", was " + status.bootId() + "): it runs nothing"));
                }
                yield silentMillis > settings.nodeLostAfterMillis()
                    ? Optional.of(new Command.SetNodeMembership(node, NodeMembership.LOST, "no heartbeat for " + silentMillis + " ms"))
                    : Optional.empty();
            }
            case LOST -> {
                String heardBootId = in.heardBootIds().get(node);
                if (status.rebootedSince(heardBootId)) {
                    yield Optional.of(new Command.SetNodeMembership(node, NodeMembership.DOWN, "rebooted since it was lost"
                        + " (boot id " + heardBootId + ", was " + status.bootId() + "): it runs nothing"));
                }
                if (fencingInUse) {
                    if (!in.fencingInFlight().contains(node)) {
                        fences.add(Fencing.request(in.config(), node, "node is lost: " + status.membershipReason()));
                    }
                    yield Optional.empty();
                }
                yield leaseSilentMillis >= settings.leaseMillis() + settings.leaseMarginMillis()
                    ? Optional.of(new Command.SetNodeMembership(node, NodeMembership.DOWN, "lease expired: no heartbeat for "
                        + leaseSilentMillis + " ms"))
                    : Optional.empty();
            }
            case DOWN -> acked != null && in.nowMillis() - acked <= settings.nodeLostAfterMillis()
                ? Optional.of(new Command.SetNodeMembership(node, NodeMembership.MEMBER, "heartbeating",
                    in.heardBootIds().get(node)))
                : Optional.empty();
        };
    }

    /**
     * How long the node has given no sign of life that this leader knows of. A new leader counts from
     * when it took over, so every node gets a full period to find it (nodes ask every server once
     * the old leader has not answered within one heartbeat interval, so they find it well within
     * that period). The server that led before is the exception: its silence counts from when this
     * server last heard from it as its follower, since the election itself took that long. A dead
     * leader's node is thus lost about one period after its death, not an election later.
     */
    private static long silentMillis(Input in, String node) {
        Long acked = in.lastAckedHeartbeatMillis().get(node);
        PreviousLeader previous = in.previousLeader();
        long floor = previous != null && previous.node().equals(node)
            ? Math.min(previous.lastHeardMillis(), in.leaderSinceMillis()) : in.leaderSinceMillis();
        return in.nowMillis() - Math.max(acked == null ? Long.MIN_VALUE : acked, floor);
    }

    static boolean reachable(Input in, String node) {
        NodeStatus status = statusOf(in, node);
        Long acked = in.lastAckedHeartbeatMillis().get(node);
        return status != null && status.membership() == NodeMembership.MEMBER && acked != null
            && in.nowMillis() - acked <= in.settings().nodeLostAfterMillis();
    }

    private static NodeStatus statusOf(Input in, String node) {
        for (NodeStatus status : in.view().statuses()) {
            if (status.node().equals(node)) {
                return status;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ the transition's actions

    /**
     * Sends every action whose predecessors are all done. Completed actions are no longer in a freshly
     * computed graph, so an action is ready when none of its predecessors is a real action, looking
     * through pseudo actions (which complete by themselves once their own predecessors have).
     */
    private static void collectGraphActions(Input in, Transition transition, boolean fencingInUse, CloneNotifications notifying,
                                            List<ActionRequest> actions, List<FenceRequest> fences, List<String> waiting) {
        Map<Integer, List<Integer>> predecessors = new HashMap<>();
        for (int[] order : transition.orderings()) {
            predecessors.computeIfAbsent(order[1], id -> new ArrayList<>()).add(order[0]);
        }
        // Probes first: nothing starts or stops anywhere while a node may still discover that it runs
        // something (Pacemaker's probe barrier), or a start could race a copy nobody knows about.
        boolean probing = transition.actions().stream().anyMatch(Coordinator::isProbe);
        // One wave at a time: an action still running is invisible to the scheduler (a start in flight
        // looks like a stopped resource), so while any is in flight nothing new is sent, as Pacemaker
        // lets a transition complete before it runs the next. Found by the simulation (herd-sim).
        boolean waveInFlight = in.actionsInFlight().stream().anyMatch(key -> key.endsWith("_0"));
        // While a node awaits fencing, what it runs is not known for sure (a cleanup may have erased
        // its history, and it cannot be probed): nothing is started or promoted anywhere until the
        // fencing is recorded. Stops and demotes go on. Found by the simulation (seed 1970).
        List<String> awaitingFencing = fencingInUse ? nodesAwaitingFencing(in, transition) : List.of();
        // A node removed from the cluster may still run something: a start sent to it just before the
        // removal (when the status showed nothing there) completes unrecorded, since the state refuses
        // a removed node's reports. Its heartbeats are no longer acknowledged, so it stops everything
        // once its lease runs out, as a lost node does; until then nothing starts or promotes anywhere.
        // A leader that takes over while the state still waits for such a node counts its lease from
        // when it took over, as it does a lost node's.
        List<String> removedInLease = removedNodesInLease(in);
        Map<Integer, Boolean> done = new HashMap<>();
        for (Action action : transition.actions()) {
            boolean isReady = action.runnable() && predecessors.getOrDefault(action.id(), List.of()).stream()
                .allMatch(p -> done.getOrDefault(p, false));
            boolean passes = notifying.passes(action);
            done.put(action.id(), isReady && passes);
            Optional<ActionRequest> notification = CloneNotifications.isNotification(action) && !passes
                ? notifying.toSend(action) : Optional.empty();
            if (action.pseudo() || action.intervalMs() > 0 || (CloneNotifications.isNotification(action) && notification.isEmpty())) {
                continue; // recurring monitors: see collectRecurringMonitors; notifications: see CloneNotifications
            }
            if ("stonith".equals(action.task())) {
                if (fencingInUse && !in.fencingInFlight().contains(action.node())) {
                    fences.add(Fencing.request(in.config(), action.node(), action.reason() == null ? "the scheduler fences it"
                        : action.reason()));
                }
                continue;
            }
            if (!awaitingFencing.isEmpty() && activates(action)) {
                waiting.add(describe(action) + ": waits for the fencing of " + String.join(", ", awaitingFencing));
                continue;
            }
            if (!removedInLease.isEmpty() && activates(action)) {
                waiting.add(describe(action) + ": waits until the lease of removed node " + String.join(", ", removedInLease)
                    + " has run out");
                continue;
            }
            if (!isReady || (probing && !isProbe(action)) || waveInFlight) {
                waiting.add(describe(action) + ": waits for " + (waveInFlight ? "the actions in flight"
                    : isReady ? "the probes" : "earlier actions"));
                continue;
            }
            if (!reachable(in, action.node())) {
                waiting.add(describe(action) + ": node " + action.node() + " is not heartbeating");
                continue;
            }
            if (notifying.waitsForPostNotifications(action)) {
                waiting.add(describe(action) + ": waits for the post-notifications of its clone's last phase");
                continue;
            }
            if (notification.isPresent()) {
                if (!in.actionsInFlight().contains(notification.get().key())) {
                    actions.add(notification.get());
                }
                continue;
            }
            String resource = executorId(in.config(), action.resource());
            String key = ActionRequest.keyOf(action.node(), resource, action.task(), 0);
            if (in.actionsInFlight().contains(key)) {
                continue;
            }
            Optional<ActionRequest> request = request(in.config(), key, action.node(), resource, action.task(), 0,
                expectedRc(action.task(), 0, null)).or(() -> orphanStop(in, key, action.node(), resource, action.task()));
            request.ifPresentOrElse(actions::add, () -> waiting.add(describe(action) + ": not in the configuration"));
            request.ifPresent(sent -> notifying.phaseBegins(action));
        }
        notifying.forgetUnplanned();
    }

    /**
     * Every active resource instance on a reachable node gets the recurring monitors its role calls
     * for, once its own actions are done and until the node has recorded the monitor's first result.
     */
    private static void collectRecurringMonitors(Input in, Transition transition, List<ActionRequest> actions) {
        Set<String> busy = new HashSet<>();
        for (Action action : transition.actions()) {
            if (!completesByItself(action) && action.resource() != null && !("monitor".equals(action.task()) && action.intervalMs() > 0)) {
                busy.add(action.resource());
            }
        }
        for (Transition.Placement placement : transition.revised()) {
            Role role = parseRole(placement.currentRole());
            if (role == null || role == Role.STOPPED || role == Role.UNKNOWN || busy.contains(placement.resource())) {
                continue;
            }
            Optional<Primitive> primitive = primitive(in.config(), placement.resource());
            if (primitive.isEmpty()) {
                continue;
            }
            String resource = executorId(in.config(), placement.resource());
            for (String node : placement.currentNodes()) {
                if (!reachable(in, node)) {
                    continue;
                }
                NodeStatus.ResourceHistory history = statusOf(in, node).resources().get(resource);
                for (Operation monitor : monitorsFor(primitive.get(), role)) {
                    String slot = "monitor_" + monitor.intervalMs();
                    String key = ActionRequest.keyOf(node, resource, "monitor", monitor.intervalMs());
                    if ((history != null && history.operations().containsKey(slot)) || in.actionsInFlight().contains(key)) {
                        continue;
                    }
                    request(in.config(), key, node, resource, "monitor", monitor.intervalMs(),
                        expectedRc("monitor", monitor.intervalMs(), role)).ifPresent(actions::add);
                }
            }
        }
    }

    private static List<Operation> monitorsFor(Primitive primitive, Role role) {
        List<Operation> monitors = new ArrayList<>();
        for (Operation operation : primitive.operations()) {
            if (!"monitor".equals(operation.name()) || operation.intervalMs() <= 0 || !operation.enabled()) {
                continue;
            }
            Role wanted = operation.role();
            if (wanted == null || wanted == role || (wanted == Role.STARTED && role == Role.UNPROMOTED)) {
                monitors.add(operation);
            }
        }
        return monitors;
    }

    private static Role parseRole(String text) {
        try {
            return Role.parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ requests

    private static Optional<ActionRequest> request(Configuration config, String key, String node, String resource,
                                                   String operation, long intervalMillis, int expectedRc) {
        return primitive(config, resource).map(primitive -> new ActionRequest(key, node, resource, primitive.agent(), operation,
            intervalMillis, timeoutMillis(config, primitive, operation, intervalMillis), expectedRc, primitive.params()));
    }

    /**
     * A stop of a resource that is no longer configured but still runs (an orphan, stopped because
     * stop-orphan-resources is on): its agent comes from the node's history of it, as Pacemaker takes
     * it from the lrm history. The node stops it with the parameters it started it with.
     */
    private static Optional<ActionRequest> orphanStop(Input in, String key, String node, String resource, String operation) {
        NodeStatus status = statusOf(in, node);
        NodeStatus.ResourceHistory history = status == null ? null : status.resources().get(resource);
        if (!"stop".equals(operation) || history == null || history.agent() == null || history.agent().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ActionRequest(key, node, resource, history.agent(), operation, 0,
            DEFAULT_OPERATION_TIMEOUT_MILLIS, 0, Map.of()));
    }

    /**
     * The id a node's executor and history use for a resource instance. The copies of an anonymous
     * clone are interchangeable and at most one runs per node, so, as in Pacemaker, a node knows its
     * copy by the primitive's id ("web", not "web:2"); the scheduler maps it back to an instance. A
     * globally-unique clone's copies keep their numbers.
     */
    static String executorId(Configuration config, String instanceId) {
        int colon = instanceId.lastIndexOf(':');
        if (colon < 0) {
            return instanceId;
        }
        String base = instanceId.substring(0, colon);
        for (herd.scheduler.model.Resource resource : config.resources()) {
            if (resource instanceof herd.scheduler.model.Clone clone && contains(clone.child(), base)) {
                boolean unique = herd.scheduler.Scheduler.isTrue(clone.meta().getOrDefault("globally-unique", "false"));
                return unique ? instanceId : base;
            }
        }
        return instanceId;
    }

    private static boolean contains(herd.scheduler.model.Resource resource, String id) {
        if (resource.id().equals(id)) {
            return true;
        }
        return resource instanceof herd.scheduler.model.Group group && group.members().stream().anyMatch(m -> m.id().equals(id));
    }

    /** The primitive behind a resource or clone instance id ("web" or "web:2"). */
    static Optional<Primitive> primitive(Configuration config, String resource) {
        String base = resource.replaceFirst(":\\d+$", "");
        return config.find(base).filter(Primitive.class::isInstance).map(Primitive.class::cast);
    }

    /** Exit code that means success: a probe expects "not running", a promoted monitor "running promoted". */
    static int expectedRc(String operation, long intervalMillis, Role role) {
        if ("monitor".equals(operation)) {
            if (intervalMillis == 0) {
                return 7;
            }
            return role == Role.PROMOTED ? 8 : 0;
        }
        return 0;
    }

    /** The operation's own timeout, else the operation defaults', else Pacemaker's 20 s. */
    static long timeoutMillis(Configuration config, Primitive primitive, String operation, long intervalMillis) {
        String name = intervalMillis == 0 && "monitor".equals(operation) ? "monitor" : operation;
        for (Operation configured : primitive.operations()) {
            if (configured.name().equals(name) && (configured.intervalMs() == intervalMillis || intervalMillis == 0)) {
                String timeout = configured.attributes().get("timeout");
                if (timeout != null) {
                    return parseMillisOr(timeout, DEFAULT_OPERATION_TIMEOUT_MILLIS);
                }
            }
        }
        String fallback = config.operationDefaults().get("timeout");
        return fallback == null ? DEFAULT_OPERATION_TIMEOUT_MILLIS : parseMillisOr(fallback, DEFAULT_OPERATION_TIMEOUT_MILLIS);
    }

    private static long parseMillisOr(String duration, long fallback) {
        try {
            return Durations.parseMillis(duration);
        } catch (IllegalArgumentException e) {
            return fallback;
        }
    }

    private static List<String> nodesAwaitingFencing(Input in, Transition transition) {
        Set<String> nodes = new TreeSet<>(in.fencingInFlight());
        transition.actions().stream().filter(action -> "stonith".equals(action.task())).map(Action::node).forEach(nodes::add);
        return List.copyOf(nodes);
    }

    /**
     * Removed nodes whose lease (plus the margin, as for a lost node) may still run: those this leader
     * acknowledged, and those the state still waits for, which an earlier leader may have acknowledged
     * until this one took over.
     */
    private static List<String> removedNodesInLease(Input in) {
        Set<String> members = new HashSet<>();
        in.view().nodes().forEach(node -> members.add(node.name()));
        Set<String> removed = new TreeSet<>(in.view().removedNodesInLease());
        removed.addAll(in.lastAckedHeartbeatMillis().keySet());
        removed.removeAll(members);
        long leaseAndMargin = in.settings().leaseMillis() + in.settings().leaseMarginMillis();
        return removed.stream().filter(node -> in.nowMillis() - lastPossibleAck(in, node) < leaseAndMargin).toList();
    }

    /** When any leader may last have acknowledged a removed node: never after this one took over, unless by this one. */
    private static long lastPossibleAck(Input in, String removedNode) {
        Long acked = in.lastAckedHeartbeatMillis().get(removedNode);
        long byEarlierLeaders = in.view().removedNodesInLease().contains(removedNode) ? in.leaderSinceMillis() : Long.MIN_VALUE;
        return Math.max(acked == null ? Long.MIN_VALUE : acked, byEarlierLeaders);
    }

    /** Removed nodes the state waits for whose lease has run out: it need wait no longer. */
    private static List<Command> removedNodesToForget(Input in) {
        List<String> inLease = removedNodesInLease(in);
        return in.view().removedNodesInLease().stream().filter(node -> !inLease.contains(node))
            .<Command>map(Command.ForgetRemovedNode::new).toList();
    }

    /** Actions that make a resource (more) active somewhere. */
    private static boolean activates(Action action) {
        return switch (action.task()) {
            case "start", "promote", "migrate_to", "migrate_from" -> true;
            default -> false;
        };
    }

    /** Pseudo actions and notifications: neither keeps an instance busy (its monitors go on). */
    private static boolean completesByItself(Action action) {
        return action.pseudo() || CloneNotifications.isNotification(action);
    }

    private static boolean isProbe(Action action) {
        return !action.pseudo() && "monitor".equals(action.task()) && action.intervalMs() == 0;
    }

    private static String describe(Action action) {
        return action.task() + " " + action.resource() + " on " + action.node();
    }

    private static List<FenceRequest> dedupe(List<FenceRequest> fences) {
        Map<String, FenceRequest> byTarget = new java.util.LinkedHashMap<>();
        fences.forEach(fence -> byTarget.putIfAbsent(fence.target(), fence));
        return List.copyOf(byTarget.values());
    }
}
