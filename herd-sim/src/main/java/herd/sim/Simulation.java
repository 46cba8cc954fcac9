package herd.sim;

import herd.coordinator.ActionRequest;
import herd.coordinator.Coordinator;
import herd.coordinator.CoordinatorSettings;
import herd.coordinator.Decisions;
import herd.coordinator.FenceRequest;
import herd.coordinator.Fencing;
import herd.coordinator.NotificationMemory;
import herd.core.ClusterState;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.FencingEvent;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.core.resource.OperationRecord;
import herd.scheduler.Transition;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Colocation;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Group;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.sim.Scenario.Fault;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A seeded, deterministic discrete-event simulation of a whole cluster's resource management: servers
 * (one of them the leader) and workers, the leader's loop around the real {@link Coordinator}, a
 * command log applied to one real {@link ClusterState} (the in-memory stand-in for Raft), message
 * delays, simulated agents, fencing, and the scenario's faults. The safety rules are checked after
 * every event against the ground truth of what runs where; after the quiet period the cluster must
 * have settled. One {@link Random} seeded from the scenario is the only source of randomness, so a
 * run replays exactly.
 */
public final class Simulation {
    /** The leader calls decide() after every commit and at least this often. */
    public static final long TICK_MILLIS = 100;
    /** Extra time an action may take beyond its own timeout and interval before the leader sends it again. */
    public static final long ACTION_GRACE_MILLIS = 5_000;
    /** Wait before fencing a node again after the device failed. */
    public static final long FENCE_RETRY_MILLIS = 2_000;
    public static final long FENCE_RECORD_RETRY_MILLIS = 500;
    public static final long FENCE_MIN_MILLIS = 200;
    public static final long FENCE_MAX_MILLIS = 2_000;
    /** A leader that cannot reach a majority for this long steps down: 3/4 of the minimum election timeout. */
    public static final long STEP_DOWN_MILLIS = 375;
    /** herd's default election timeout (ControlPlaneConfig); the simulation elects at the timeout itself. */
    public static final long ELECTION_MIN_MILLIS = 500;
    public static final long ELECTION_MAX_MILLIS = 750;
    /** When, after the quiet period begins, the operator cleans up failed resources (crm_resource --cleanup). */
    public static final List<Long> OPERATOR_CLEANUPS_AFTER_QUIET_MILLIS = List.of(5_000L, 15_000L);
    public static final long CLEANUP_RETRY_MILLIS = 1_000;

    /**
     * Rules of the node protocol the simulated nodes and leader follow.
     *
     * @param reportLeaseStops        a node that stopped everything on losing its lease reports those stops once it
     *                                reaches the leader again (else the state may keep showing them running)
     * @param newLeaderWaitsForNodes  a new leader sends no one-off action until every node that is not down has
     *                                said, in a heartbeat, that it runs no operation and has no unacknowledged
     *                                result (what the old leader started is then in the state); a node lost before
     *                                it said so holds everything until it is fenced or its lease expired
     */
    public record Protocol(boolean reportLeaseStops, boolean newLeaderWaitsForNodes) {
        public static Protocol complete() {
            return new Protocol(true, true);
        }
    }

    public record Options(CoordinatorVariant coordinator, CoordinatorSettings settings, Protocol protocol,
                          boolean keepFullTrace) {
        public static Options defaults() {
            return new Options(CoordinatorVariant.REAL, CoordinatorSettings.defaults(), Protocol.complete(), false);
        }

        public Options withCoordinator(CoordinatorVariant variant) {
            return new Options(variant, settings, protocol, keepFullTrace);
        }

        public Options withProtocol(Protocol rules) {
            return new Options(coordinator, settings, rules, keepFullTrace);
        }

        public Options keepingFullTrace() {
            return new Options(coordinator, settings, protocol, true);
        }
    }

    /** What the leader keeps in memory: all of it is lost when leadership changes. */
    private static final class Leadership {
        final String server;
        final long term;
        final long sinceMillis;
        final TreeMap<String, Long> ackedHeartbeatMillis = new TreeMap<>();
        /** Node to the boot id of its latest heartbeat here, a lost node's too. */
        final TreeMap<String, String> heardBootIds = new TreeMap<>();
        /** Action key to the time after which it counts as lost and may be sent again. */
        final TreeMap<String, Long> actionsInFlight = new TreeMap<>();
        /** Node to the time after which fencing may be tried again. */
        final TreeMap<String, Long> fencingInFlight = new TreeMap<>();
        /** Action key to the number of its latest dispatch: only the answer to that one ends it. */
        final TreeMap<String, Long> dispatchByKey = new TreeMap<>();
        /** Nodes that said, since this leadership began, that no operation or result of theirs is outstanding. */
        final TreeSet<String> settledNodes = new TreeSet<>();
        /** Clone notifications answered and owed (herd's LeaderCoordinator keeps the same). */
        final NotificationMemory notifications = new NotificationMemory();
        boolean decideQueued;

        /** The server that led before, as this one last heard from it (herd's ControlPlaneNode records the same). */
        final Coordinator.PreviousLeader previousLeader;

        Leadership(String server, long term, long sinceMillis, Coordinator.PreviousLeader previousLeader) {
            this.server = server;
            this.term = term;
            this.sinceMillis = sinceMillis;
            this.previousLeader = previousLeader;
        }
    }

    /** One sending of an action: who sent it, and which sending it was. */
    private record Dispatch(Leadership leader, long number) {}

    private final Scenario scenario;
    private final Options options;
    private final Random random;
    private final EventQueue queue = new EventQueue();
    private final Trace trace;
    private final GroundTruth truth = new GroundTruth();
    private final Network network = new Network();
    private final ClusterState state = new ClusterState();
    private final TreeMap<String, SimNode> nodes = new TreeMap<>();
    private final AgentModel agents;
    private final Configuration config;
    private final boolean fencingInUse;
    private final ResourceSets resources;
    private final TreeMap<String, Long> lostAtIndex = new TreeMap<>();

    private long index;
    private long nowMillis;
    private long eventNumber;
    private long commits;
    private long fenceAttempts;
    private long term;
    private Leadership leadership;
    /** Per server, the leader it last heard from and when. */
    private final TreeMap<String, Coordinator.PreviousLeader> leaderHeardBy = new TreeMap<>();
    private Long leaderMajorityLostSince;
    private long fenceDevicesDownUntilMillis;
    private long partitionGeneration;
    private long dispatches;

    private Simulation(Scenario scenario, Options options) {
        this.scenario = scenario;
        this.options = options;
        // Not the generator's stream: the scenario and the run draw independently from the same seed.
        this.random = new Random(ScenarioGenerator.scramble(~scenario.seed()));
        this.trace = new Trace(options.keepFullTrace());
        this.agents = new AgentModel(scenario.agents(), random);
        this.config = CrmShell.parse(scenario.crmText());
        this.fencingInUse = Fencing.inUse(config);
        this.resources = ResourceSets.of(config, scenario.nodes().size());
    }

    /** Runs the scenario drawn from {@code seed} with herd's real coordinator. */
    public static SimulationResult run(long seed) {
        return run(seed, Options.defaults());
    }

    public static SimulationResult run(long seed, Options options) {
        return run(ScenarioGenerator.generate(seed), options);
    }

    public static SimulationResult run(Scenario scenario, Options options) {
        return new Simulation(scenario, options).execute();
    }

    private SimulationResult execute() {
        try {
            setUp();
            while (!queue.isEmpty()) {
                EventQueue.Event event = queue.poll();
                if (event.atMillis() > scenario.endMillis()) {
                    break;
                }
                nowMillis = event.atMillis();
                eventNumber++;
                trace.line("#" + eventNumber + " " + nowMillis + "ms " + event.label());
                event.action().run();
                checkExclusiveResources();
            }
            nowMillis = scenario.endMillis();
            eventNumber++;
            trace.line("#" + eventNumber + " " + nowMillis + "ms end of the quiet period: the cluster must have settled");
            checkSettled();
            return result(null);
        } catch (InvariantViolation violation) {
            trace.line("    VIOLATION: " + violation.getMessage());
            return result(violation.getMessage());
        }
    }

    private SimulationResult result(String violation) {
        return new SimulationResult(scenario, violation, violation == null ? 0 : eventNumber, nowMillis, eventNumber, commits,
            fenceAttempts, trace.tail(), trace.finish(), trace.full());
    }

    private void setUp() {
        List<String> names = scenario.nodes();
        bootstrap(new Command.InitCluster("sim", nodeInfo(names.get(0)), false));
        for (String name : names.subList(1, names.size())) {
            bootstrap(new Command.RegisterNode(nodeInfo(name)));
        }
        bootstrap(new Command.SetResourceConfiguration(scenario.crmText()));
        for (String name : names) {
            SimNode node = new SimNode(name, this);
            nodes.put(name, node);
            node.boot();
        }
        scheduleElection(nowMillis + electionTimeoutMillis());
        for (Fault fault : scenario.faults()) {
            queue.schedule(fault.atMillis(), "fault: " + fault, () -> inject(fault));
        }
        queue.schedule(scenario.quietFromMillis(), "quiet period begins: faults end, agents behave", this::beginQuiet);
        for (long after : OPERATOR_CLEANUPS_AFTER_QUIET_MILLIS) {
            queue.schedule(scenario.quietFromMillis() + after, "operator cleans up failed resources", this::operatorCleanup);
        }
    }

    private void bootstrap(Command command) {
        Outcome outcome = state.apply(++index, command);
        if (outcome instanceof Outcome.Rejected rejected) {
            throw new IllegalStateException("the simulated cluster could not be set up: " + rejected.rejection().message());
        }
    }

    private NodeInfo nodeInfo(String name) {
        int number = Integer.parseInt(name.substring(1));
        boolean server = scenario.isServer(name);
        String host = "127.0.0." + (10 + number);
        return new NodeInfo(name, server ? NodeInfo.Role.SERVER : NodeInfo.Role.WORKER, host + ":7000",
            server ? host + ":7001" : null, null);
    }

    // ------------------------------------------------------------------ what the nodes use

    long now() {
        return nowMillis;
    }

    Random random() {
        return random;
    }

    CoordinatorSettings settings() {
        return options.settings();
    }

    Protocol protocol() {
        return options.protocol();
    }

    GroundTruth truth() {
        return truth;
    }

    AgentModel agents() {
        return agents;
    }

    /** Agents misbehave (fail, hang, raise false alarms) only until the quiet period. */
    boolean misbehaving() {
        return nowMillis < scenario.quietFromMillis();
    }

    void schedule(long atMillis, String label, Runnable action) {
        queue.schedule(atMillis, label, action);
    }

    void note(String text) {
        trace.line("    " + text);
    }

    String agentOf(String resource) {
        return resources.agentByResource().getOrDefault(resource, "ocf:heartbeat:Dummy");
    }

    /** A resource (or clone instance) id without its instance number: "web:2" is "web". */
    static String baseOf(String resourceId) {
        int colon = resourceId.lastIndexOf(':');
        if (colon < 0) {
            return resourceId;
        }
        for (int i = colon + 1; i < resourceId.length(); i++) {
            if (!Character.isDigit(resourceId.charAt(i))) {
                return resourceId;
            }
        }
        return resourceId.substring(0, colon);
    }

    // ------------------------------------------------------------------ the network

    /**
     * Sends a message: it is lost if the link is down now or when it arrives, or if the receiver lost
     * power (or rebooted) meanwhile.
     */
    private void deliver(String from, String to, String label, Runnable onArrival) {
        SimNode receiver = nodes.get(to);
        if (!nodes.get(from).powered() || !receiver.powered() || !network.connected(from, to)) {
            return;
        }
        int receiverIncarnation = receiver.incarnation();
        long at = network.deliveryMillis(from, to, nowMillis, random);
        queue.schedule(at, label, () -> {
            if (receiver.powered() && receiver.incarnation() == receiverIncarnation && network.connected(from, to)) {
                onArrival.run();
            } else {
                note("lost on the way");
            }
        });
    }

    void sendHeartbeat(SimNode node, long sentAtMillis, boolean fresh, boolean settled) {
        Leadership to = leadership;
        if (to == null) {
            return;
        }
        String bootId = node.name + "-boot-" + node.incarnation(); // a node's incarnation changes at every power-off
        deliver(node.name, to.server, "heartbeat " + node.name + " -> " + to.server + (fresh ? " (just booted)" : ""), () -> {
            if (leadership == to) {
                to.heardBootIds.put(node.name, bootId);
                onHeartbeat(to, node, sentAtMillis, settled);
            }
        });
    }

    void sendReport(SimNode node, long sequence, List<OperationRecord> records) {
        Leadership to = leadership;
        if (to == null) {
            return;
        }
        deliver(node.name, to.server, "report " + sequence + " " + node.name + " -> " + to.server, () -> {
            if (leadership != to) {
                return;
            }
            Outcome outcome = commit(new Command.RecordOperations(node.name, records));
            if (outcome != null) {
                deliver(to.server, node.name, "report " + sequence + " acknowledged to " + node.name,
                    () -> node.onReportAcknowledged(sequence));
            }
        });
    }

    /**
     * The node's answer to one action, as the leader's call returns in herd: once the result is
     * reported (or the action refused), the sender no longer counts it in flight.
     */
    void actionDone(SimNode node, ActionRequest request, Object sender, String how) {
        if (!how.equals("done")) {
            note(node.name + " " + how + ": " + SimNode.describe(request));
        }
        if (!(sender instanceof Dispatch dispatch) || leadership != dispatch.leader()) {
            return;
        }
        Leadership leader = dispatch.leader();
        deliver(node.name, leader.server, "answer to " + request.key() + " -> " + leader.server, () -> {
            if (leadership == leader && Long.valueOf(dispatch.number()).equals(leader.dispatchByKey.get(request.key()))) {
                if (how.equals("done") && "notify".equals(request.operation())) {
                    leader.notifications.answered(request.key());
                }
                leader.actionsInFlight.remove(request.key());
                leader.dispatchByKey.remove(request.key());
            }
        });
    }

    // ------------------------------------------------------------------ the leader

    private void onHeartbeat(Leadership leader, SimNode node, long sentAtMillis, boolean settled) {
        NodeStatus status = state.nodeStatus(node.name);
        if (status.membership() == NodeMembership.LOST) {
            deliver(leader.server, node.name, "'lost' answer to " + node.name, node::onDeclaredLost);
            return;
        }
        leader.ackedHeartbeatMillis.put(node.name, nowMillis);
        if (settled && leader.settledNodes.add(node.name)) {
            note(node.name + " has nothing outstanding from earlier leaders");
        }
        deliver(leader.server, node.name, "ack to " + node.name, () -> node.onHeartbeatAcknowledged(sentAtMillis));
    }

    /** Commits a command through the leader: possible only while it reaches a majority of servers. */
    private Outcome commit(Command command) {
        if (leadership == null || !hasMajority(leadership.server)) {
            note("cannot commit " + describe(command) + ": no leader with a majority");
            return null;
        }
        Outcome outcome = state.apply(++index, command);
        commits++;
        boolean applied = outcome instanceof Outcome.Applied;
        note("commit " + index + ": " + describe(command) + (applied ? "" : " REJECTED: "
            + ((Outcome.Rejected) outcome).rejection().message()));
        if (applied) {
            afterCommit(command);
        }
        requestDecide();
        return outcome;
    }

    private void afterCommit(Command command) {
        if (command instanceof Command.SetNodeMembership set && set.membership() == NodeMembership.LOST) {
            lostAtIndex.put(set.node(), index);
        }
    }

    private void requestDecide() {
        Leadership leader = leadership;
        if (leader == null || leader.decideQueued) {
            return;
        }
        leader.decideQueued = true;
        queue.schedule(nowMillis, "decide after commit", () -> {
            leader.decideQueued = false;
            if (leadership == leader) {
                decide(leader);
            }
        });
    }

    private void tick(Leadership leader) {
        if (leadership != leader) {
            return;
        }
        // Raft heartbeats, at tick granularity: every server the leader reaches hears from it now.
        for (String server : scenario.servers()) {
            if (!server.equals(leader.server) && nodes.get(server).powered() && network.connected(leader.server, server)) {
                leaderHeardBy.put(server, new Coordinator.PreviousLeader(leader.server, nowMillis));
            }
        }
        decide(leader);
        queue.schedule(nowMillis + TICK_MILLIS, "leader tick", () -> tick(leader));
    }

    private Decisions decideNow(Leadership leader) {
        ResourceStatusView view = (ResourceStatusView) state.query(new Query.ResourceStatus());
        Decisions decisions = options.coordinator().decide(new Coordinator.Input(config, view,
            new TreeMap<>(leader.ackedHeartbeatMillis), leader.sinceMillis, nowMillis, new TreeSet<>(leader.actionsInFlight.keySet()),
            new TreeSet<>(leader.fencingInFlight.keySet()), options.settings(), new TreeMap<>(leader.heardBootIds),
            leader.previousLeader),
            leader.notifications);
        if (!options.protocol().newLeaderWaitsForNodes() || decisions.actions().isEmpty()) {
            return decisions;
        }
        List<String> unsettled = view.statuses().stream()
            .filter(s -> s.membership() != NodeMembership.DOWN && !leader.settledNodes.contains(s.node()))
            .map(NodeStatus::node).toList();
        if (unsettled.isEmpty()) {
            return decisions;
        }
        List<ActionRequest> recurringOnly = decisions.actions().stream().filter(a -> a.intervalMillis() > 0).toList();
        List<String> waiting = new ArrayList<>(decisions.waiting());
        if (recurringOnly.size() < decisions.actions().size()) {
            waiting.add("one-off actions wait until " + unsettled + " report what earlier leaders had them do");
        }
        return new Decisions(decisions.membershipChanges(), recurringOnly, decisions.fences(), decisions.transition(), waiting);
    }

    private void decide(Leadership leader) {
        leader.actionsInFlight.values().removeIf(deadline -> deadline < nowMillis);
        leader.fencingInFlight.values().removeIf(retryAt -> retryAt < nowMillis);
        Decisions decisions = decideNow(leader);
        if (!decisions.idle()) {
            note("decide: " + describe(decisions));
        }
        for (Command change : decisions.membershipChanges()) {
            commit(change);
        }
        for (FenceRequest fence : decisions.fences()) {
            startFencing(leader, fence);
        }
        long decidedAtIndex = index;
        for (ActionRequest action : decisions.actions()) {
            dispatch(leader, action, decidedAtIndex);
        }
    }

    private void dispatch(Leadership leader, ActionRequest action, long decidedAtIndex) {
        leader.actionsInFlight.put(action.key(), nowMillis + action.timeoutMillis() + action.intervalMillis() + ACTION_GRACE_MILLIS);
        Dispatch dispatch = new Dispatch(leader, ++dispatches);
        leader.dispatchByKey.put(action.key(), dispatch.number());
        SimNode target = nodes.get(action.node());
        deliver(leader.server, action.node(), "action " + SimNode.describe(action) + " -> " + action.node(),
            () -> target.receiveAction(action, decidedAtIndex, dispatch));
    }

    // ------------------------------------------------------------------ fencing

    private void startFencing(Leadership leader, FenceRequest request) {
        if (leader.fencingInFlight.containsKey(request.target())) {
            return;
        }
        leader.fencingInFlight.put(request.target(), Long.MAX_VALUE);
        fenceAttempts++;
        int serverIncarnation = nodes.get(leader.server).incarnation();
        long tookMillis = FENCE_MIN_MILLIS + random.nextLong(FENCE_MAX_MILLIS - FENCE_MIN_MILLIS + 1);
        note(leader.server + " fences " + request.target() + ": " + request.reason());
        queue.schedule(nowMillis + tookMillis, "fence device answers about " + request.target(),
            () -> finishFencing(leader, request, serverIncarnation));
    }

    private void finishFencing(Leadership leader, FenceRequest request, int serverIncarnation) {
        SimNode server = nodes.get(leader.server);
        if (!server.powered() || server.incarnation() != serverIncarnation) {
            note("the fencing of " + request.target() + " died with " + leader.server);
            return;
        }
        boolean worked = nowMillis >= fenceDevicesDownUntilMillis && !request.levels().isEmpty();
        if (worked) {
            // The device acts whoever leads now: the node is off before anyone hears of it.
            powerOff(request.target(), "fenced", randomDownMillis());
        }
        String detail = worked ? "level 1 (" + ScenarioGenerator.FENCE_DEVICE + ")" : ScenarioGenerator.FENCE_DEVICE
            + ": the device does not answer";
        recordFencing(leader, new FencingEvent(request.target(), worked, detail, nowMillis), serverIncarnation);
    }

    /** As herd's LeaderCoordinator: a fencing that worked is recorded again while its leader leads, not redone. */
    private void recordFencing(Leadership leader, FencingEvent event, int serverIncarnation) {
        SimNode server = nodes.get(leader.server);
        if (leadership != leader || !server.powered() || server.incarnation() != serverIncarnation) {
            note("the result of fencing " + event.target() + " is not recorded: " + leader.server + " no longer leads");
            return;
        }
        if (commit(new Command.RecordFencing(event)) == null && event.succeeded()) {
            queue.schedule(nowMillis + FENCE_RECORD_RETRY_MILLIS, leader.server + " records the fencing of " + event.target()
                + " again", () -> recordFencing(leader, event, serverIncarnation));
            return;
        }
        leader.fencingInFlight.put(event.target(), event.succeeded() ? 0L : nowMillis + FENCE_RETRY_MILLIS);
    }

    // ------------------------------------------------------------------ servers and elections

    private boolean hasMajority(String server) {
        if (!nodes.get(server).powered()) {
            return false;
        }
        long reachable = scenario.servers().stream()
            .filter(other -> nodes.get(other).powered() && network.connected(server, other)).count();
        return reachable * 2 > Scenario.SERVER_COUNT;
    }

    /** After any change of power or links: the leader's watchdog, or an election when there is no leader. */
    private void topologyChanged() {
        Leadership leader = leadership;
        if (leader == null) {
            scheduleElection(nowMillis + electionTimeoutMillis());
            return;
        }
        if (hasMajority(leader.server)) {
            leaderMajorityLostSince = null;
        } else if (leaderMajorityLostSince == null) {
            leaderMajorityLostSince = nowMillis;
            queue.schedule(nowMillis + STEP_DOWN_MILLIS, "leader watchdog of " + leader.server, () -> watchdog(leader));
        }
    }

    private void watchdog(Leadership leader) {
        if (leadership != leader || leaderMajorityLostSince == null || nowMillis - leaderMajorityLostSince < STEP_DOWN_MILLIS) {
            return;
        }
        note(leader.server + " steps down: no majority for " + (nowMillis - leaderMajorityLostSince) + " ms");
        leadership = null;
        // The other servers stopped hearing from it when it lost them, so their election timers run from then.
        scheduleElection(Math.max(nowMillis, leaderMajorityLostSince + electionTimeoutMillis()));
        leaderMajorityLostSince = null;
    }

    private long electionTimeoutMillis() {
        return ELECTION_MIN_MILLIS + random.nextLong(ELECTION_MAX_MILLIS - ELECTION_MIN_MILLIS + 1);
    }

    private void scheduleElection(long atMillis) {
        queue.schedule(atMillis, "election timeout", this::election);
    }

    private void election() {
        if (leadership != null) {
            return;
        }
        List<String> candidates = scenario.servers().stream().filter(this::hasMajority).toList();
        if (candidates.isEmpty()) {
            note("no server reaches a majority: no leader");
            return;
        }
        String winner = candidates.get(random.nextInt(candidates.size()));
        Coordinator.PreviousLeader previous = leaderHeardBy.get(winner);
        Leadership leader = new Leadership(winner, ++term, nowMillis, previous);
        leadership = leader;
        leaderMajorityLostSince = null;
        note(winner + " is elected leader (term " + term + ")");
        queue.schedule(nowMillis, "leader tick", () -> tick(leader));
    }

    // ------------------------------------------------------------------ faults

    private void inject(Fault fault) {
        switch (fault) {
            case Fault.Crash crash -> powerOff(crash.node(), "crashed", crash.downMillis());
            case Fault.CrashLeader crash -> {
                if (leadership == null) {
                    note("no leader to crash");
                } else {
                    powerOff(leadership.server, "crashed while leading", crash.downMillis());
                }
            }
            case Fault.Partition partition -> partition(partition);
            case Fault.FenceDeviceOutage outage ->
                fenceDevicesDownUntilMillis = Math.max(fenceDevicesDownUntilMillis, nowMillis + outage.durationMillis());
            case Fault.ResourceDies dies -> note(dies.resource() + " dies on " + truth.kill(dies.resource()));
        }
    }

    private void partition(Fault.Partition partition) {
        network.partition(partition.isolated());
        long generation = ++partitionGeneration;
        note("network: " + network);
        topologyChanged();
        queue.schedule(nowMillis + partition.durationMillis(), "partition heals", () -> {
            if (generation == partitionGeneration) {
                heal();
            }
        });
    }

    private void heal() {
        network.heal();
        partitionGeneration++;
        topologyChanged();
    }

    private void powerOff(String name, String why, long downMillis) {
        SimNode node = nodes.get(name);
        if (!node.powered()) {
            note(name + " is already off");
            return;
        }
        node.powerOff();
        note(name + " is off: " + why + "; boots in " + downMillis + " ms");
        if (leadership != null && leadership.server.equals(name)) {
            leadership = null;
            leaderMajorityLostSince = null;
            note("no leader");
        }
        topologyChanged();
        queue.schedule(nowMillis + downMillis, name + " boots", () -> {
            if (!node.powered()) {
                node.boot();
                note(name + " is on again, empty");
                topologyChanged();
            }
        });
    }

    private long randomDownMillis() {
        return ScenarioGenerator.DOWN_MIN_MILLIS
            + random.nextLong(ScenarioGenerator.DOWN_MAX_MILLIS - ScenarioGenerator.DOWN_MIN_MILLIS + 1);
    }

    private void beginQuiet() {
        if (network.partitioned()) {
            heal();
            note("network healed");
        }
    }

    /** Forgets the history of every resource that failed somewhere, so it may run anywhere again. */
    private void operatorCleanup() {
        TreeSet<String> failed = new TreeSet<>();
        for (NodeStatus status : state.nodeStatuses()) {
            status.resources().forEach((resource, history) -> {
                if (!history.failCounts().isEmpty() || history.operations().containsKey(NodeStatus.ResourceHistory.LAST_FAILURE)) {
                    failed.add(resource);
                }
            });
        }
        for (String resource : failed) {
            if (commit(new Command.CleanupResource(resource, null)) == null && nowMillis + CLEANUP_RETRY_MILLIS < scenario.endMillis()) {
                queue.schedule(nowMillis + CLEANUP_RETRY_MILLIS, "operator retries the cleanup", this::operatorCleanup);
                return;
            }
        }
    }

    // ------------------------------------------------------------------ invariants

    /** Invariant 1, after every event: an exclusive resource never runs on two nodes at once. */
    private void checkExclusiveResources() {
        for (String resource : resources.exclusive()) {
            Set<String> running = truth.nodesRunning(resource);
            if (running.size() > 1) {
                throw new InvariantViolation("invariant 1 (exclusive resources): " + resource + " runs on " + running
                    + " at once; memberships " + memberships());
            }
        }
    }

    /**
     * Invariant 2, when a start begins on a node: the leader decided it after committing that the node
     * is lost and must be fenced.
     */
    void checkStartAllowed(String node, ActionRequest request, long decidedAtIndex) {
        if (!fencingInUse || state.nodeStatus(node).membership() != NodeMembership.LOST) {
            return;
        }
        Long lostAt = lostAtIndex.get(node);
        if (lostAt != null && decidedAtIndex >= lostAt) {
            throw new InvariantViolation("invariant 2 (fencing pending): " + SimNode.describe(request) + " begins on " + node
                + ", which is lost and not yet fenced since log entry " + lostAt + "; the start was decided at entry "
                + decidedAtIndex);
        }
    }

    /** Invariant 3, at the end: everything that can run runs, as configured, and the leader has nothing left to do. */
    private void checkSettled() {
        List<String> problems = new ArrayList<>();
        Leadership leader = leadership;
        if (leader == null || !hasMajority(leader.server)) {
            problems.add("no leader");
        } else {
            nodes.values().stream().filter(node -> !node.powered()).forEach(node -> problems.add(node.name + " is off"));
            for (NodeStatus status : state.nodeStatuses()) {
                if (status.membership() != NodeMembership.MEMBER) {
                    problems.add(status.node() + " is " + status.membership() + " (" + status.membershipReason() + ")");
                }
            }
            leader.actionsInFlight.values().removeIf(deadline -> deadline < nowMillis);
            leader.fencingInFlight.values().removeIf(retryAt -> retryAt < nowMillis);
            Decisions decisions = decideNow(leader);
            if (!decisions.idle()) {
                problems.add("decide() is not idle: " + describe(decisions));
            }
            if (!decisions.waiting().isEmpty()) {
                problems.add("actions wait: " + decisions.waiting());
            }
            checkPlacement(problems);
            if (decisions.transition() != null) {
                checkStateMatchesTruth(decisions.transition(), problems);
            }
        }
        if (!problems.isEmpty()) {
            throw new InvariantViolation("invariant 3 (settled after the quiet period): " + String.join("; ", problems)
                + "; ground truth: " + truth + "; in flight: " + (leader == null ? "-" : leader.actionsInFlight.keySet())
                + "; committed history: " + committedHistory());
        }
    }

    /** Per node, each resource's recorded operations: what the scheduler reads. */
    private String committedHistory() {
        StringBuilder text = new StringBuilder();
        for (NodeStatus status : state.nodeStatuses()) {
            text.append(text.isEmpty() ? "" : " | ").append(status.node()).append(':');
            status.resources().forEach((resource, history) -> {
                text.append(' ').append(resource).append('{');
                history.operations().forEach((slot, record) -> text.append(slot).append('=').append(describe(record)).append(';'));
                text.append('}');
            });
        }
        return text.toString();
    }

    private void checkPlacement(List<String> problems) {
        long members = state.nodeStatuses().stream().filter(s -> s.membership() == NodeMembership.MEMBER).count();
        for (String resource : resources.exclusive()) {
            Set<String> running = truth.nodesRunning(resource);
            if (running.size() != 1) {
                problems.add(resource + " runs on " + running + " instead of exactly one node");
            } else if (state.nodeStatus(running.iterator().next()).membership() != NodeMembership.MEMBER) {
                problems.add(resource + " runs on " + running + ", which is not a member");
            }
        }
        resources.cloneMax().forEach((resource, cloneMax) -> {
            long expected = Math.min(cloneMax, members);
            TreeMap<String, Integer> instances = truth.instancesPerNode(resource);
            if (instances.size() != expected) {
                problems.add(resource + " runs on " + instances.keySet() + ": " + instances.size() + " copies instead of " + expected);
            }
            instances.forEach((node, count) -> {
                if (count > 1) {
                    problems.add(count + " instances of " + resource + " run on " + node + " (clone-node-max is 1)");
                }
            });
        });
        for (List<String> together : resources.together()) {
            Set<Set<String>> placements = new java.util.HashSet<>();
            together.forEach(resource -> placements.add(truth.nodesRunning(resource)));
            if (placements.size() > 1) {
                problems.add(together + " must run together but run on " + together.stream().map(truth::nodesRunning).toList());
            }
        }
    }

    /** What the committed state says runs where (the scheduler's reading of it) is what really runs. */
    private void checkStateMatchesTruth(Transition transition, List<String> problems) {
        TreeMap<String, TreeSet<String>> believed = new TreeMap<>();
        for (Transition.Placement placement : transition.revised()) {
            believed.computeIfAbsent(baseOf(placement.resource()), r -> new TreeSet<>()).addAll(placement.currentNodes());
        }
        believed.forEach((resource, nodesBelieved) -> {
            Set<String> running = truth.nodesRunningAnyInstance(resource);
            if (!running.equals(nodesBelieved)) {
                problems.add("the state says " + resource + " runs on " + nodesBelieved + " but it runs on " + running);
            }
        });
    }

    private String memberships() {
        StringBuilder text = new StringBuilder();
        for (NodeStatus status : state.nodeStatuses()) {
            text.append(text.isEmpty() ? "" : ", ").append(status.node()).append('=').append(status.membership());
        }
        return text.toString();
    }

    // ------------------------------------------------------------------ trace text

    private static String describe(Command command) {
        return switch (command) {
            case Command.SetNodeMembership set -> set.node() + " " + set.membership() + " (" + set.reason() + ")";
            case Command.RecordFencing fencing -> "fencing of " + fencing.event().target()
                + (fencing.event().succeeded() ? " succeeded" : " failed") + " (" + fencing.event().detail() + ")";
            case Command.CleanupResource cleanup -> "cleanup " + cleanup.resource();
            case Command.RecordOperations record -> "results of " + record.node() + ": " + record.operations().stream()
                .map(Simulation::describe).toList();
            default -> command.getClass().getSimpleName();
        };
    }

    private static String describe(OperationRecord record) {
        return record.operation() + (record.intervalMillis() > 0 ? "/" + record.intervalMillis() : "") + " "
            + record.resource() + " rc=" + record.rc() + (record.execStatus() == 0 ? "" : " status=" + record.execStatus());
    }

    private static String describe(Decisions decisions) {
        List<String> parts = new ArrayList<>();
        decisions.membershipChanges().forEach(change -> parts.add(describe(change)));
        decisions.fences().forEach(fence -> parts.add("fence " + fence.target()));
        decisions.actions().forEach(action -> parts.add(SimNode.describe(action) + " on " + action.node()));
        return String.join(", ", parts);
    }

    /** The configuration's resources as the invariants see them. */
    record ResourceSets(List<String> exclusive, TreeMap<String, Integer> cloneMax, List<List<String>> together,
                        TreeMap<String, String> agentByResource) {

        static ResourceSets of(Configuration config, int nodeCount) {
            List<String> exclusive = new ArrayList<>();
            TreeMap<String, Integer> cloneMax = new TreeMap<>();
            List<List<String>> together = new ArrayList<>();
            TreeMap<String, String> agents = new TreeMap<>();
            for (Resource resource : config.resources()) {
                switch (resource) {
                    case Primitive primitive -> exclusive.add(primitive.id());
                    case Group group -> {
                        group.members().forEach(member -> exclusive.add(member.id()));
                        together.add(group.members().stream().map(Primitive::id).toList());
                    }
                    case Clone clone -> {
                        int max = Integer.parseInt(clone.meta().getOrDefault("clone-max", Integer.toString(nodeCount)));
                        primitivesOf(clone.child()).forEach(primitive -> cloneMax.put(primitive.id(), max));
                    }
                    default -> throw new IllegalArgumentException("the simulation does not model " + resource.getClass().getSimpleName()
                        + " resources: use a primitive, group or clone");
                }
                primitivesOf(resource).forEach(primitive -> agents.put(primitive.id(), primitive.agent()));
            }
            for (Colocation colocation : config.colocations()) {
                if (colocation.score() > 0 && exclusive.contains(colocation.dependent()) && exclusive.contains(colocation.primary())) {
                    together.add(List.of(colocation.primary(), colocation.dependent()));
                }
            }
            return new ResourceSets(exclusive, cloneMax, together, agents);
        }

        private static List<Primitive> primitivesOf(Resource resource) {
            return switch (resource) {
                case Primitive primitive -> List.of(primitive);
                case Group group -> group.members();
                case Clone clone -> primitivesOf(clone.child());
                default -> List.of();
            };
        }
    }
}
