package herd.server.resources;

import herd.agent.AgentId;
import herd.agent.fence.FenceAction;
import herd.agent.fence.FenceDevice;
import herd.agent.fence.Fencer;
import herd.agent.fence.FencingOutcome;
import herd.control.RoleListener;
import herd.coordinator.ActionRequest;
import herd.coordinator.Coordinator;
import herd.coordinator.CoordinatorSettings;
import herd.coordinator.Decisions;
import herd.coordinator.FenceRequest;
import herd.coordinator.NotificationMemory;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.FencingEvent;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import herd.server.ClusterAccess;
import herd.server.PeerApi;
import herd.server.api.ApiException;
import herd.server.api.JsonViews;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's resource loop: acknowledges heartbeats, and after every commit (and every
 * {@link #TICK_MILLIS}) asks the pure {@link Coordinator} what to do, commits its membership
 * verdicts, fences lost nodes and sends ready actions to nodes. Everything it keeps in memory
 * (acknowledged heartbeats, actions in flight) starts empty on a new leader, which therefore waits a
 * full lease before it declares anyone lost or down.
 */
public final class LeaderCoordinator implements RoleListener, NodeAgent.LocalCoordinatorLink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderCoordinator.class);
    static final long TICK_MILLIS = 100;
    /**
     * The longest the commit forwarder waits for a commit before it looks again. It waits for commits,
     * not for time, and is interrupted when leadership ends; waking it every tick only cost CPU.
     */
    static final long FORWARDER_WAIT_MILLIS = 1_000;
    /** Extra time an action may take beyond its own timeout (queueing, reporting) before it is sent again. */
    static final long ACTION_GRACE_MILLIS = 5_000;
    /** Wait before fencing a node again after every device failed. */
    static final long FENCE_RETRY_MILLIS = 2_000;
    /** Pause between two attempts to record a fencing that worked. */
    static final long FENCE_RECORD_RETRY_MILLIS = 500;
    static final long FENCE_DEVICE_TIMEOUT_MILLIS = 20_000;

    private final String nodeName;
    private volatile ClusterAccess access;
    private final PeerApi peers;
    private final CoordinatorSettings settings;
    private final Fencer fencer;
    private volatile NodeAgent localAgent;

    private volatile boolean leading;
    private volatile long leaderSinceMillis;
    private volatile Thread loop;
    private final Map<String, Long> ackedHeartbeats = new ConcurrentHashMap<>();
    /** Node to the boot id of its latest heartbeat here, a lost node's too (see {@code Coordinator.Input}). */
    private final Map<String, String> heardBootIds = new ConcurrentHashMap<>();
    private volatile java.util.function.Supplier<java.util.Optional<herd.control.LeaderContact>> leaderContacts =
        java.util.Optional::empty;
    /** The server that led before this one, and when this one last heard from it; null when unknown. */
    private volatile Coordinator.PreviousLeader previousLeader;
    /**
     * Nodes that have told this leader they run nothing an earlier leader asked for (no operation
     * running, every result recorded). Until every member has, no action is sent: a start the old
     * leader sent may still be running, and the state cannot show it yet.
     */
    private final Set<String> settledNodes = ConcurrentHashMap.newKeySet();
    /** Action key to the time after which it counts as lost and may be sent again. */
    private final Map<String, Long> actionsInFlight = new ConcurrentHashMap<>();
    /** Clone notifications answered and owed, for this term of leadership (see CloneNotifications). */
    private volatile NotificationMemory notifications = new NotificationMemory();
    /** Node to the time after which fencing may be tried again (in flight until then). */
    private final Map<String, Long> fencingInFlight = new ConcurrentHashMap<>();
    private volatile ParsedConfiguration parsed = new ParsedConfiguration(-1, Configuration.empty(), null);

    private record ParsedConfiguration(long version, Configuration config, String error) {}

    /**
     * Created before the Raft server starts, so it hears the first leadership; it acts once
     * {@link #attach} has given it the cluster.
     */
    public LeaderCoordinator(String nodeName, PeerApi peers, CoordinatorSettings settings, Fencer fencer) {
        this.nodeName = nodeName;
        this.peers = peers;
        this.settings = settings;
        this.fencer = fencer;
    }

    /**
     * Where this server learns, on becoming leader, since when the leader before it has been silent
     * (see {@code Coordinator.PreviousLeader}); without it, that server's node gets the full period
     * every node gets.
     */
    public void watchLeaderContacts(java.util.function.Supplier<java.util.Optional<herd.control.LeaderContact>> contacts) {
        this.leaderContacts = contacts;
    }

    /** The cluster, and the node agent of this same process (actions for this node skip the network). */
    public void attach(ClusterAccess cluster, NodeAgent agent) {
        this.localAgent = agent;
        this.access = cluster;
    }

    @Override
    public synchronized void onRoleChange(boolean leader, long term) {
        if (leader && !leading) {
            leading = true;
            leaderSinceMillis = System.currentTimeMillis();
            previousLeader = leaderContacts.get().filter(contact -> !contact.leader().equals(nodeName))
                .map(contact -> new Coordinator.PreviousLeader(contact.leader(), contact.atEpochMillis())).orElse(null);
            ackedHeartbeats.clear();
            heardBootIds.clear();
            settledNodes.clear();
            actionsInFlight.clear();
            fencingInFlight.clear();
            notifications = new NotificationMemory();
            loop = Thread.ofVirtual().name("herd-coordinator").start(this::run);
            log.info("{} coordinates resources from term {}{}", nodeName, term, previousLeader == null ? ""
                : " (the previous leader, " + previousLeader.node() + ", was last heard "
                    + (leaderSinceMillis - previousLeader.lastHeardMillis()) + " ms ago)");
        } else if (!leader && leading) {
            leading = false;
            Thread running = loop;
            if (running != null) {
                running.interrupt();
            }
            log.info("{} no longer coordinates resources", nodeName);
        }
    }

    @Override
    public NodeAgent.HeartbeatVerdict heartbeat(String node, boolean busy, String bootId) {
        if (!leading || access == null) {
            return null;
        }
        if (bootId != null) {
            heardBootIds.put(node, bootId);
        }
        String policy = parsed.config().property("no-quorum-policy", "stop");
        try {
            ResourceStatusView view = view();
            NodeStatus status = view.statuses().stream().filter(s -> s.node().equals(node)).findFirst().orElse(null);
            if (status == null) {
                // Not registered yet (a server being added): neither a member nor lost.
                return new NodeAgent.HeartbeatVerdict(NodeAgent.HeartbeatVerdict.UNKNOWN, null, policy);
            }
            if (status.membership() == NodeMembership.LOST) {
                return new NodeAgent.HeartbeatVerdict(NodeAgent.HeartbeatVerdict.LOST, null, policy);
            }
        } catch (ApiException e) {
            return null;
        }
        ackedHeartbeats.put(node, System.currentTimeMillis());
        if (!busy) {
            settledNodes.add(node);
        }
        return new NodeAgent.HeartbeatVerdict(NodeAgent.HeartbeatVerdict.ACK, null, policy);
    }

    public boolean leading() {
        return leading;
    }

    /**
     * Wakes the loop: after every commit (an operation result, a membership change) and when an
     * action in flight completes, so the next wave goes out at once instead of at the next tick.
     */
    private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);

    private void forwardCommits() {
        long seenIndex = 0;
        long seenResourceChange = -1;
        while (leading && !Thread.currentThread().isInterrupted()) {
            try {
                ClusterAccess cluster = access;
                if (cluster == null) {
                    Thread.sleep(TICK_MILLIS);
                    continue;
                }
                long index = cluster.appliedSignal().awaitAbove(seenIndex, FORWARDER_WAIT_MILLIS);
                if (index > seenIndex) {
                    seenIndex = index;
                    // only commits the plan depends on wake the loop: key-value writes and volume
                    // metadata do not, and re-planning on each of them took a core under load
                    long resourceChange = resourceChangeIndex(cluster);
                    if (resourceChange != seenResourceChange) {
                        seenResourceChange = resourceChange;
                        wake.release();
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The index of the last commit the plan depends on; -1 (wake anyway) when it cannot be read. */
    private static long resourceChangeIndex(ClusterAccess cluster) {
        try {
            return cluster.query(new herd.core.command.Query.ResourcesChangedAt(), false)
                instanceof herd.core.command.QueryResult.LogIndex changed ? changed.index() : -1;
        } catch (ApiException | RuntimeException e) {
            return -1;
        }
    }

    private void run() {
        Thread forwarder = Thread.ofVirtual().name("herd-coordinator-wake").start(this::forwardCommits);
        try {
            loop();
        } finally {
            forwarder.interrupt();
        }
    }

    private void loop() {
        while (leading && !Thread.currentThread().isInterrupted()) {
            try {
                if (access == null) {
                    Thread.sleep(TICK_MILLIS);
                    continue;
                }
                tick();
                wake.tryAcquire(TICK_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                return;
            } catch (ApiException e) {
                log.debug("coordinator tick: {}", e.getMessage());
                sleepQuietly();
            } catch (RuntimeException e) {
                log.error("coordinator tick failed", e);
                sleepQuietly();
            }
        }
    }

    private void tick() throws ApiException {
        ResourceStatusView view = view();
        Configuration config = configuration(view);
        if (config == null) {
            return;
        }
        long now = System.currentTimeMillis();
        actionsInFlight.values().removeIf(deadline -> deadline < now);
        fencingInFlight.values().removeIf(retryAt -> retryAt < now);
        Decisions decisions = Coordinator.decide(new Coordinator.Input(config, view, Map.copyOf(ackedHeartbeats),
            leaderSinceMillis, now, Set.copyOf(actionsInFlight.keySet()), Set.copyOf(fencingInFlight.keySet()), settings,
            Map.copyOf(heardBootIds), previousLeader),
            notifications);
        for (Command change : decisions.membershipChanges()) {
            Outcome outcome = access.submit(change);
            log.info("{}", outcome instanceof Outcome.Applied applied ? applied.description() : outcome);
        }
        decisions.fences().forEach(fence -> startFencing(fence, view));
        List<String> unsettled = unsettledNodes(view);
        if (!unsettled.isEmpty() && !decisions.actions().isEmpty()) {
            log.debug("{}: waiting for {} to report what an earlier leader asked of them", nodeName, unsettled);
            return;
        }
        for (ActionRequest action : decisions.actions()) {
            dispatch(action, view);
        }
    }

    /** Members (and lost nodes) that have not yet told this leader they hold nothing outstanding. */
    private List<String> unsettledNodes(ResourceStatusView view) {
        return view.statuses().stream()
            .filter(status -> status.membership() != NodeMembership.DOWN && !settledNodes.contains(status.node()))
            .map(NodeStatus::node)
            .toList();
    }

    private ResourceStatusView view() throws ApiException {
        return (ResourceStatusView) access.query(new Query.ResourceStatus(), false);
    }

    /** The configuration, parsed once per version; a text that no longer parses is reported once and skipped. */
    private Configuration configuration(ResourceStatusView view) {
        ParsedConfiguration current = parsed;
        if (current.version() != view.configurationVersion()) {
            try {
                current = new ParsedConfiguration(view.configurationVersion(), CrmShell.parse(view.crmText()), null);
            } catch (RuntimeException e) {
                current = new ParsedConfiguration(view.configurationVersion(), null, e.getMessage());
                log.error("configuration version {} cannot be read ({}): resources are left as they are",
                    view.configurationVersion(), e.getMessage());
            }
            parsed = current;
        }
        return current.config();
    }

    // ------------------------------------------------------------------ actions

    private void dispatch(ActionRequest action, ResourceStatusView view) {
        long deadline = System.currentTimeMillis() + action.timeoutMillis() + action.intervalMillis() + ACTION_GRACE_MILLIS;
        actionsInFlight.put(action.key(), deadline);
        log.info("{}: {} {} on {}{}", nodeName, action.operation(), action.resource(), action.node(),
            action.intervalMillis() > 0 ? " every " + action.intervalMillis() + " ms" : "");
        Thread.ofVirtual().name("herd-action").start(() -> {
            try {
                send(action, view);
                if ("notify".equals(action.operation())) {
                    notifications.answered(action.key());
                }
                if (action.intervalMillis() == 0) {
                    actionsInFlight.remove(action.key());
                    wake.release();
                }
            } catch (Exception e) {
                if (e.getMessage() != null && e.getMessage().contains("answered 503")) {
                    log.debug("{}: {} on {} not run yet: {}", nodeName, action.key(), action.node(), e.getMessage());
                } else {
                    log.warn("{}: could not run {} on {}: {}", nodeName, action.key(), action.node(), e.getMessage());
                }
                actionsInFlight.remove(action.key());
            }
        });
    }

    private void send(ActionRequest action, ResourceStatusView view) throws Exception {
        NodeAgent agent = localAgent;
        if (agent != null && action.node().equals(nodeName)) {
            agent.execute(action);
            return;
        }
        String address = view.nodes().stream().filter(n -> n.name().equals(action.node())).map(NodeInfo::apiAddress)
            .findFirst().orElseThrow(() -> new IllegalStateException("node " + action.node() + " has no address"));
        PeerApi.Reply reply = peers.post(address, "/v1/internal/actions", JsonViews.MAPPER.valueToTree(action),
            Duration.ofMillis(action.timeoutMillis() + ACTION_GRACE_MILLIS));
        if (!reply.ok()) {
            throw new IllegalStateException("node answered " + reply.status() + ": " + reply.errorMessage());
        }
    }

    // ------------------------------------------------------------------ fencing

    private void startFencing(FenceRequest request, ResourceStatusView view) {
        if (fencingInFlight.putIfAbsent(request.target(), Long.MAX_VALUE) != null) {
            return;
        }
        log.warn("{}: fencing node {} ({})", nodeName, request.target(), request.reason());
        Thread.ofVirtual().name("herd-fence").start(() -> {
            FencingEvent event = fence(request);
            boolean recorded = record(event);
            // A fencing that worked but could not be recorded (no majority just now) is recorded again
            // while this server leads, rather than done again: fencing the node anew once it boots
            // would keep a small cluster from ever regaining its majority (a fencing storm). A new
            // leader, which cannot know of it, fences again.
            while (!recorded && event.succeeded() && leading) {
                try {
                    Thread.sleep(FENCE_RECORD_RETRY_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                recorded = record(event);
            }
            fencingInFlight.put(request.target(), event.succeeded() ? 0 : System.currentTimeMillis() + FENCE_RETRY_MILLIS);
        });
    }

    private boolean record(FencingEvent event) {
        try {
            Outcome outcome = access.submit(new Command.RecordFencing(event));
            log.warn("{}: {}", nodeName, outcome instanceof Outcome.Applied applied ? applied.description() : outcome);
            return true;
        } catch (ApiException e) {
            log.warn("{}: could not record the fencing of {}: {}", nodeName, event.target(), e.getMessage());
            return false;
        }
    }

    private FencingEvent fence(FenceRequest request) {
        try {
            List<List<FenceDevice>> levels = request.levels().stream()
                .map(level -> level.stream().map(d -> new FenceDevice(d.id(), AgentId.parse(d.agent()), d.params())).toList())
                .toList();
            if (levels.isEmpty()) {
                return new FencingEvent(request.target(), false, "no fence device is configured", System.currentTimeMillis());
            }
            FencingOutcome outcome = fencer.fence(levels, request.target(), FenceAction.REBOOT, FENCE_DEVICE_TIMEOUT_MILLIS);
            String detail = outcome.success()
                ? "level " + outcome.succeededLevel() + " (" + outcome.attempts().get(outcome.attempts().size() - 1).deviceId() + ")"
                : outcome.failures().replace('\n', ';');
            return new FencingEvent(request.target(), outcome.success(), truncate(detail), System.currentTimeMillis());
        } catch (RuntimeException e) {
            return new FencingEvent(request.target(), false, truncate("fencing failed: " + e.getMessage()), System.currentTimeMillis());
        }
    }

    private static String truncate(String text) {
        return text.length() <= herd.core.Limits.MAX_REASON_CHARS ? text : text.substring(0, herd.core.Limits.MAX_REASON_CHARS);
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(TICK_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        onRoleChange(false, -1);
    }
}
