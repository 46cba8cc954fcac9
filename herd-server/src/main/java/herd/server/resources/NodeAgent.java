package herd.server.resources;

import com.fasterxml.jackson.databind.JsonNode;
import herd.agent.AgentId;
import herd.agent.ExecStatus;
import herd.agent.Executor;
import herd.agent.OperationRequest;
import herd.agent.OperationResult;
import herd.coordinator.ActionRequest;
import herd.coordinator.CoordinatorSettings;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.resource.OperationRecord;
import herd.server.ClusterAccess;
import herd.server.PeerApi;
import herd.server.api.ApiException;
import herd.server.api.JsonViews;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resource side of every node: heartbeats to the leader, runs the actions the leader sends with
 * the local executor, reports their results into the cluster state, and keeps the lease: when no
 * heartbeat has been acknowledged for the lease time, it stops every resource it runs by itself, so
 * the leader may recover them elsewhere once lease + margin has passed.
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);
    /**
     * How often the lease is checked while this node is not in good standing (at start, or after it lost
     * the lease): standing comes back with a fresh lease, so this only has to stay well under the lease.
     */
    static final long LEASE_CHECK_INTERVAL_MILLIS = 50;
    /**
     * The longest the lease loop sleeps while in good standing. It wakes when the lease would run out
     * if no acknowledgement came meanwhile (one only moves that later), and at least this often, which
     * bounds what a jump of the wall clock can do to its sleep. It used to wake every 50 ms, and each
     * wake-up of a virtual thread costs an idle node CPU (bench/results/idle-node.md).
     */
    static final long LEASE_CHECK_MAX_SLEEP_MILLIS = 1_000;
    /** Monitor results waiting to be reported; beyond this they are dropped (and the next change reported). */
    static final int REPORT_QUEUE_MAX = 1_000;
    static final long REPORT_TIMEOUT_MILLIS = 10_000;
    static final long REPORT_RETRY_MILLIS = 200;

    private final String nodeName;
    private final ClusterAccess access;
    private final Executor executor;
    private final PeerApi peers;
    private final CoordinatorSettings settings;
    /** API addresses of servers to try when the leader is unknown. */
    private final Supplier<List<String>> serverAddresses;
    private final LocalCoordinatorLink local;

    /** Calls are numbered from the clock at start, so numbers keep increasing across restarts. */
    private final AtomicLong lastCallId = new AtomicLong(System.currentTimeMillis() * 1000);
    /** What this node believes it runs, in start order: resource to the request that started (or found) it. */
    private final Map<String, ActionRequest> active = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>());
    /** Recurring monitors running here: resource to their requests. */
    private final Map<String, Set<ActionRequest>> recurring = new ConcurrentHashMap<>();
    private volatile long lastAckSentAtMillis;
    private volatile boolean inGoodStanding;
    /** Whether the warning that the leader no longer knows this node was logged since its last acknowledgement. */
    private volatile boolean unknownToLeaderSaid;
    private volatile String noQuorumPolicy = "stop";
    private volatile String leaderAddress;
    private volatile boolean running = true;
    /** Operations the leader sent that are running or whose result is not recorded yet. */
    private final java.util.concurrent.atomic.AtomicInteger operationsOutstanding = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * False until this process has cleared what the cluster state recorded of its resources before it
     * (re)started: its monitors are gone with the old process, so it probes everything again.
     */
    private volatile boolean historyReset;
    /**
     * The kernel's id of this boot: a lost node that heartbeats with another id than it had as a
     * member has rebooted, so runs nothing, and the leader need not fence it (again).
     */
    private final String bootId = readBootId();
    private final java.util.concurrent.atomic.AtomicBoolean resetting = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.BlockingQueue<OperationRecord> pendingReports =
        new java.util.concurrent.LinkedBlockingQueue<>(REPORT_QUEUE_MAX);
    private final List<Thread> threads = new ArrayList<>();
    /** Heartbeat calls, one virtual thread each, so a hanging one never delays asking the others. */
    private final java.util.concurrent.ExecutorService heartbeatCalls =
        java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

    /**
     * @param local the leader-side coordinator on this same process, when this node is a server (heartbeats
     *              and actions then skip the network when it leads), else null
     */
    public NodeAgent(String nodeName, ClusterAccess access, Executor executor, PeerApi peers, CoordinatorSettings settings,
                     Supplier<List<String>> serverAddresses, LocalCoordinatorLink local) {
        this.nodeName = nodeName;
        this.access = access;
        this.executor = executor;
        this.peers = peers;
        this.settings = settings;
        this.serverAddresses = serverAddresses;
        this.local = local;
    }

    /** The coordinator on this process, for a server; lets its own node heartbeat without HTTP. */
    public interface LocalCoordinatorLink {
        /**
         * @param busy the node still runs an operation or holds a result it has not recorded
         * @param bootId the machine's boot id (null when unknown): it changes with every reboot
         * @return the verdict, or null when this server does not lead
         */
        HeartbeatVerdict heartbeat(String node, boolean busy, String bootId);
    }

    /** The leader's answer to a heartbeat. */
    public record HeartbeatVerdict(String verdict, String leaderAddress, String noQuorumPolicy) {
        public static final String ACK = "ack";
        public static final String LOST = "lost";
        public static final String NOT_LEADER = "not-leader";
        /** The leader does not know this node yet: no acknowledgement, nothing to stop. */
        public static final String UNKNOWN = "unknown";
    }

    public void start() {
        threads.add(Thread.ofVirtual().name("herd-heartbeat").start(this::heartbeatLoop));
        threads.add(Thread.ofVirtual().name("herd-lease").start(this::leaseLoop));
        threads.add(Thread.ofVirtual().name("herd-reports").start(this::reportLoop));
    }

    public Executor executor() {
        return executor;
    }

    // ------------------------------------------------------------------ heartbeats and lease

    private void heartbeatLoop() {
        while (running) {
            long sentAt = System.currentTimeMillis();
            HeartbeatVerdict verdict = sendHeartbeat();
            if (verdict != null) {
                onVerdict(verdict, sentAt);
            }
            sleep(settings.heartbeatIntervalMillis());
        }
    }

    /**
     * Heartbeats the leader this node last found. When it refuses, fails, or has not answered within
     * one heartbeat interval (a dead machine makes a connection hang instead of being refused), asks
     * every server at once and takes the first leader that answers: a node finds a new leader within
     * about one interval of it being elected, well inside the period the new leader waits before it
     * declares anyone lost (see {@code Coordinator}).
     */
    private HeartbeatVerdict sendHeartbeat() {
        if (local != null) {
            HeartbeatVerdict verdict = local.heartbeat(nodeName, busy(), bootId);
            if (verdict != null) {
                leaderAddress = null;
                return verdict;
            }
        }
        java.util.concurrent.CompletionService<AddressedVerdict> answers =
            new java.util.concurrent.ExecutorCompletionService<>(heartbeatCalls);
        Set<String> asked = new LinkedHashSet<>();
        try {
            String cached = leaderAddress;
            if (cached != null) {
                asked.add(cached);
                answers.submit(() -> new AddressedVerdict(cached, heartbeatTo(cached)));
                java.util.concurrent.Future<AddressedVerdict> first =
                    answers.poll(settings.heartbeatIntervalMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                if (first != null) {
                    asked.remove(cached);
                    if (first.get().fromLeader()) {
                        return first.get().verdict();
                    }
                }
            }
            for (String address : serverAddresses.get()) {
                if (asked.add(address)) {
                    answers.submit(() -> new AddressedVerdict(address, heartbeatTo(address)));
                }
            }
            // Every call ends within its own timeout, so this loop does too; calls still running when
            // a leader answers finish on their own and are ignored.
            for (int waiting = asked.size(); waiting > 0; waiting--) {
                AddressedVerdict answer = answers.take().get();
                if (answer.fromLeader()) {
                    leaderAddress = answer.address();
                    return answer.verdict();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            log.debug("heartbeat round failed: {}", e.toString());
        }
        leaderAddress = null;
        return null;
    }

    /** A server's answer to a heartbeat; verdict null when it did not answer. */
    private record AddressedVerdict(String address, HeartbeatVerdict verdict) {
        boolean fromLeader() {
            return verdict != null && !HeartbeatVerdict.NOT_LEADER.equals(verdict.verdict());
        }
    }

    /** One heartbeat to one server: its verdict, or null when it did not answer. */
    private HeartbeatVerdict heartbeatTo(String address) {
        try {
            PeerApi.Reply reply = peers.post(address, "/v1/internal/heartbeat",
                JsonViews.object().put("node", nodeName).put("busy", busy()).put("bootId", bootId),
                Duration.ofMillis(settings.heartbeatIntervalMillis() * 2));
            return reply.ok() ? verdictOf(reply.body()) : null;
        } catch (java.io.IOException e) {
            log.debug("heartbeat to {} failed: {}", address, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Linux's id of the current boot, or null where there is none (then no reboot is ever inferred). */
    static String readBootId() {
        try {
            String id = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/random/boot_id")).trim();
            return herd.core.resource.NodeStatus.validBootId(id) ? id : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** Tells a new leader whether this node still runs or holds anything an earlier leader asked for. */
    private boolean busy() {
        return operationsOutstanding.get() > 0 || !pendingReports.isEmpty();
    }

    static HeartbeatVerdict verdictOf(JsonNode body) {
        return new HeartbeatVerdict(body.path("verdict").asText(), body.path("leaderAddress").asText(null),
            body.path("noQuorumPolicy").asText("stop"));
    }

    private void onVerdict(HeartbeatVerdict verdict, long sentAtMillis) {
        noQuorumPolicy = verdict.noQuorumPolicy() == null ? "stop" : verdict.noQuorumPolicy();
        if (HeartbeatVerdict.ACK.equals(verdict.verdict())) {
            if (!historyReset && resetting.compareAndSet(false, true)) {
                // Off the heartbeat thread: heartbeats must keep flowing while the reset talks to the cluster.
                Thread.ofVirtual().name("herd-history-reset").start(() -> {
                    try {
                        resetOwnHistory();
                    } finally {
                        resetting.set(false);
                    }
                });
            }
            lastAckSentAtMillis = Math.max(lastAckSentAtMillis, sentAtMillis);
            unknownToLeaderSaid = false;
            if (!inGoodStanding) {
                log.info("{} is a member: the leader acknowledges its heartbeats", nodeName);
            }
            inGoodStanding = true;
        } else if (HeartbeatVerdict.LOST.equals(verdict.verdict()) && inGoodStanding) {
            log.warn("{}: the leader declared this node lost; stopping its resources", nodeName);
            loseStanding("the leader declared this node lost");
        } else if (HeartbeatVerdict.UNKNOWN.equals(verdict.verdict()) && inGoodStanding && !unknownToLeaderSaid) {
            // Not acknowledged, so the lease loop ends its standing in time; a leader that has not applied
            // the whole log yet might answer so for a moment, so this only says why, once.
            unknownToLeaderSaid = true;
            log.warn("{}: the leader does not know this node any more (removed from the cluster?): its heartbeats "
                + "are not acknowledged, so its lease runs out; if it was removed, stop herd here", nodeName);
        }
    }

    /**
     * A process that (re)starts knows nothing of what ran before it, and the recurring monitors of its
     * predecessor are gone; so before it runs anything it has the cluster forget what this node
     * recorded, and the leader probes every resource here again (nothing else starts meanwhile).
     */
    private void resetOwnHistory() {
        try {
            herd.core.command.QueryResult.ResourceStatusView view = (herd.core.command.QueryResult.ResourceStatusView)
                access.query(new herd.core.command.Query.ResourceStatus(), true);
            for (herd.core.resource.NodeStatus status : view.statuses()) {
                if (status.node().equals(nodeName)) {
                    for (String resource : status.resources().keySet()) {
                        access.submit(new Command.CleanupResource(resource, nodeName));
                    }
                    if (!status.resources().isEmpty()) {
                        log.info("{} restarted: forgot the history of {} resources here; they are probed again", nodeName,
                            status.resources().size());
                    }
                }
            }
            historyReset = true;
        } catch (ApiException | RuntimeException e) {
            log.warn("{} could not clear its earlier history yet ({}); runs nothing until it has", nodeName, e.getMessage());
        }
    }

    private void leaseLoop() {
        while (running) {
            sleep(checkLease());
        }
    }

    /** Loses standing if the lease has run out; returns how long to sleep until the next check. */
    private long checkLease() {
        if (!inGoodStanding) {
            return LEASE_CHECK_INTERVAL_MILLIS;
        }
        long silentMillis = System.currentTimeMillis() - lastAckSentAtMillis;
        if (silentMillis > settings.leaseMillis()) {
            loseStanding("no heartbeat acknowledged for " + silentMillis + " ms (lease " + settings.leaseMillis() + " ms)");
            return LEASE_CHECK_INTERVAL_MILLIS;
        }
        return untilLeaseRunsOut(silentMillis, settings.leaseMillis());
    }

    /** Until just after a lease with {@code silentMillis} of it gone runs out, within [1, {@link #LEASE_CHECK_MAX_SLEEP_MILLIS}]. */
    static long untilLeaseRunsOut(long silentMillis, long leaseMillis) {
        return Math.max(1, Math.min(LEASE_CHECK_MAX_SLEEP_MILLIS, leaseMillis - silentMillis + 1));
    }

    /**
     * The lease is gone: with no-quorum-policy=stop (the default) every resource stops here now, since
     * the leader will start them elsewhere once lease + margin has passed; freeze keeps them running
     * but nothing new starts; ignore keeps everything as it is.
     */
    private synchronized void loseStanding(String why) {
        if (!inGoodStanding) {
            return;
        }
        inGoodStanding = false;
        recurring.keySet().forEach(executor::cancelAll);
        recurring.clear();
        if (!"stop".equals(noQuorumPolicy) && !"demote".equals(noQuorumPolicy)) {
            log.warn("{} lost its lease ({}); no-quorum-policy={} keeps {} resources as they are", nodeName, why,
                noQuorumPolicy, active.size());
            return;
        }
        log.warn("{} lost its lease ({}): stopping {} resources", nodeName, why, active.size());
        List<ActionRequest> newestFirst = new ArrayList<>(active.values());
        java.util.Collections.reverse(newestFirst); // a group stops in reverse
        for (ActionRequest started : newestFirst) {
            OperationResult result = run(started, "stop", 0);
            log.warn("{} stopped {} on lease loss: {}", nodeName, started.resource(), result);
            if (result.succeeded()) {
                active.remove(started.resource());
            }
            reportLater(record(started, result)); // recorded when the leader is reachable again, unless lost by then
        }
    }

    // ------------------------------------------------------------------ actions

    /**
     * Runs one action from the leader and records its result in the cluster state before answering,
     * so the leader's next decision sees it. A recurring monitor is set up and answered at once; its
     * results are recorded as they come.
     */
    public OperationRecord execute(ActionRequest request) throws ApiException {
        if (!inGoodStanding) {
            throw new ApiException(503, herd.core.ErrorCode.UNAVAILABLE, "node " + nodeName
                + " has no acknowledged heartbeat (lease): it runs nothing until the leader acknowledges it again");
        }
        if (!nodeName.equals(request.node())) {
            throw ApiException.badRequest("this is node " + nodeName + ", not " + request.node());
        }
        if (!historyReset) {
            throw new ApiException(503, herd.core.ErrorCode.UNAVAILABLE, "node " + nodeName
                + " has just started and is clearing its earlier history: retry in a moment");
        }
        if (request.intervalMillis() > 0) {
            startRecurring(request);
            return null;
        }
        operationsOutstanding.incrementAndGet();
        try {
            if (List.of("stop", "promote", "demote").contains(request.operation())) {
                cancelMonitors(request.resource());
            }
            ActionRequest toRun = "stop".equals(request.operation()) ? asStarted(request) : request;
            OperationResult result = run(toRun, toRun.operation(), 0);
            OperationRecord record = record(toRun, result);
            if ("notify".equals(request.operation())) {
                // Answered to the leader only: a notification changes nothing the cluster records
                // (Pacemaker does not record them either), and recording it would take the place
                // of the resource's start in its history.
                return record;
            }
            track(toRun, record);
            try {
                report(List.of(record));
            } catch (ApiException e) {
                // The result must not be lost: it is recorded as soon as the leader can be reached again.
                reportLater(record);
                throw e;
            }
            return record;
        } finally {
            operationsOutstanding.decrementAndGet();
        }
    }

    /**
     * A stop runs with the agent and parameters the resource was started (or found) with, as in
     * Pacemaker: the configuration may have changed since, or, for an orphan, be gone.
     */
    private ActionRequest asStarted(ActionRequest stop) {
        ActionRequest started = active.get(stop.resource());
        if (started == null) {
            return stop;
        }
        return new ActionRequest(stop.key(), stop.node(), stop.resource(), started.agent(), stop.operation(),
            stop.intervalMillis(), stop.timeoutMillis(), stop.expectedRc(), started.params());
    }

    private void track(ActionRequest request, OperationRecord record) {
        boolean runningNow = switch (request.operation()) {
            case "start", "promote", "demote" -> !record.isFailure() || record.rc() != OperationRecord.RC_NOT_RUNNING;
            case "stop" -> record.isFailure();
            case "monitor" -> record.rc() == OperationRecord.RC_OK || record.rc() == OperationRecord.RC_RUNNING_PROMOTED
                || (record.rc() != OperationRecord.RC_NOT_RUNNING && active.containsKey(request.resource()));
            default -> active.containsKey(request.resource());
        };
        if (runningNow) {
            active.put(request.resource(), request);
        } else {
            active.remove(request.resource());
        }
    }

    private void startRecurring(ActionRequest request) {
        Set<ActionRequest> monitors = recurring.computeIfAbsent(request.resource(), r -> ConcurrentHashMap.newKeySet());
        // A re-sent monitor (its first result was lost, or a cleanup erased it) replaces the running one,
        // which then reports its first result again.
        monitors.removeIf(m -> m.intervalMillis() == request.intervalMillis());
        monitors.add(request);
        executor.startRecurring(operationRequest(request, request.operation(), request.intervalMillis()),
            result -> reportLater(record(request, result)));
    }

    /** Stops the resource's recurring monitors and records them as cancelled, as Pacemaker does before a stop. */
    private void cancelMonitors(String resource) throws ApiException {
        Set<ActionRequest> monitors = recurring.remove(resource);
        if (monitors == null || monitors.isEmpty()) {
            return;
        }
        List<OperationRecord> cancelled = new ArrayList<>();
        for (ActionRequest monitor : monitors) {
            executor.cancelRecurring(resource, monitor.operation(), monitor.intervalMillis());
            cancelled.add(new OperationRecord(resource, monitor.agent(), monitor.operation(), monitor.intervalMillis(), 0,
                OperationRecord.EXEC_CANCELLED, monitor.expectedRc(), nextCallId(), System.currentTimeMillis(), 0, ""));
        }
        report(cancelled);
    }

    private OperationResult run(ActionRequest request, String operation, long intervalMillis) {
        try {
            return executor.executeAndWait(operationRequest(request, operation, intervalMillis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new OperationResult(request.resource(), operation, intervalMillis, 1, ExecStatus.CANCELLED,
                "interrupted", System.currentTimeMillis(), 0);
        } catch (IllegalArgumentException e) {
            return new OperationResult(request.resource(), operation, intervalMillis, 2, ExecStatus.ERROR_FATAL,
                e.getMessage(), System.currentTimeMillis(), 0);
        }
    }

    private static OperationRequest operationRequest(ActionRequest request, String operation, long intervalMillis) {
        return new OperationRequest(request.resource(), AgentId.parse(request.agent()), operation, intervalMillis,
            request.timeoutMillis(), request.params());
    }

    private OperationRecord record(ActionRequest request, OperationResult result) {
        return new OperationRecord(request.resource(), request.agent(), result.action(), result.intervalMillis(), result.rc(),
            result.status().code(), request.expectedRc(), nextCallId(), result.startedEpochMillis(), result.durationMillis(),
            truncate(result.exitReason()));
    }

    private long nextCallId() {
        long floor = System.currentTimeMillis() * 1000;
        return lastCallId.updateAndGet(previous -> Math.max(previous + 1, floor));
    }

    private static String truncate(String reason) {
        return reason.length() <= herd.core.Limits.MAX_REASON_CHARS ? reason : reason.substring(0, herd.core.Limits.MAX_REASON_CHARS);
    }

    /**
     * Records results in the cluster state, through the leader this node heartbeats to (it submits
     * them straight to its own Raft server), else through the cluster client.
     */
    private void report(List<OperationRecord> records) throws ApiException {
        Command command = new Command.RecordOperations(nodeName, records);
        String leader = leaderAddress;
        if (leader != null) {
            try {
                PeerApi.Reply reply = peers.post(leader, "/v1/internal/results",
                    JsonViews.MAPPER.valueToTree(command), Duration.ofMillis(REPORT_TIMEOUT_MILLIS));
                if (reply.ok()) {
                    return;
                }
                log.debug("{}: the leader did not record results ({}); trying the cluster client", nodeName, reply.errorMessage());
            } catch (java.io.IOException e) {
                log.debug("{}: reporting to {} failed: {}", nodeName, leader, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(503, herd.core.ErrorCode.UNAVAILABLE, "interrupted while reporting results");
            }
        }
        Outcome outcome = access.submit(command);
        if (outcome instanceof Outcome.Rejected rejected) {
            log.warn("{}: results not recorded: {}", nodeName, rejected.rejection().message());
        }
    }

    /**
     * Recurring results are reported from a queue of their own, so a slow or unreachable leader never
     * holds up the executor (which runs the next operation, e.g. a stop on lease loss).
     */
    private void reportLater(OperationRecord record) {
        if (!pendingReports.offer(record)) {
            log.warn("{}: {} results wait to be reported; dropping {} (the next change is reported again)", nodeName,
                REPORT_QUEUE_MAX, record.resource() + "_" + record.operationName());
        }
    }

    /** Records queued results in order, retrying until they are recorded or refused (e.g. the node was declared lost). */
    private void reportLoop() {
        List<OperationRecord> batch = new ArrayList<>();
        while (running) {
            try {
                if (batch.isEmpty()) {
                    batch.add(pendingReports.take());
                    pendingReports.drainTo(batch, herd.core.Limits.MAX_OPERATIONS_PER_REPORT - 1);
                }
                report(batch);
                batch.clear();
            } catch (InterruptedException e) {
                return;
            } catch (ApiException e) {
                if (e.status() < 500) {
                    log.warn("{}: {} results refused, dropped: {}", nodeName, batch.size(), e.getMessage());
                    batch.clear();
                } else {
                    log.debug("{}: results not recorded yet ({}); retrying", nodeName, e.getMessage());
                    sleep(REPORT_RETRY_MILLIS);
                }
            }
        }
    }

    private void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        threads.forEach(Thread::interrupt);
        heartbeatCalls.shutdownNow();
        executor.close();
    }
}
