package herd.agent;

import herd.agent.exec.ProcessLauncher;
import herd.agent.fence.FenceAgentRunner;
import herd.agent.runner.AgentAnswer;
import herd.agent.runner.AgentRunner;
import herd.agent.runner.FloatingIpAgent;
import herd.agent.runner.LsbRunner;
import herd.agent.runner.OcfEnvironment;
import herd.agent.runner.OcfRunner;
import herd.agent.runner.ProcessAgent;
import herd.agent.runner.StonithResourceRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's executor: runs operations on resource agents, one at a time per resource (in arrival
 * order) and up to {@link ExecutorSettings#maxConcurrentOperations()} across resources, each on its
 * own virtual thread; runs recurring monitors and reports their changes.
 */
public final class Executor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Executor.class);

    /** Operations waiting behind a running one on the same resource; more are refused. */
    public static final int MAX_QUEUED_OPERATIONS_PER_RESOURCE = 64;
    /** Recurring operations across all resources. */
    public static final int MAX_RECURRING_OPERATIONS = 4096;
    /** The timeout used to ask an agent for its meta-data. */
    public static final long METADATA_TIMEOUT_MILLIS = 20_000;

    private final ExecutorSettings settings;
    private final Clock clock;
    private final MonitorScheduler scheduler;
    private final boolean ownsScheduler;
    private final ProcessLauncher launcher;
    private final FenceAgentRunner fenceAgents;
    private final Map<String, AgentRunner> runnersByClass;
    private final AgentRunner processAgent;
    private final AgentRunner floatingIpAgent;
    private final Semaphore runningPermits;

    private final Object lock = new Object();
    private final Map<String, Lane> lanes = new HashMap<>();
    private final Map<RecurringKey, Recurring> recurring = new HashMap<>();
    private boolean closed;

    /** Real time and a scheduler of its own. */
    public Executor(ExecutorSettings settings) {
        this(settings, Clock.systemUTC(), MonitorScheduler.system(), true);
    }

    /** Time and scheduling injected (the caller closes the scheduler). */
    public Executor(ExecutorSettings settings, Clock clock, MonitorScheduler scheduler) {
        this(settings, clock, scheduler, false);
    }

    private Executor(ExecutorSettings settings, Clock clock, MonitorScheduler scheduler, boolean ownsScheduler) {
        this.settings = Objects.requireNonNull(settings);
        this.clock = Objects.requireNonNull(clock);
        this.scheduler = Objects.requireNonNull(scheduler);
        this.ownsScheduler = ownsScheduler;
        createRunDirectories(settings);
        this.launcher = new ProcessLauncher(settings.commandWrapper(), settings.runDirectory().resolve("agent-output"));
        this.fenceAgents = new FenceAgentRunner(launcher);
        this.processAgent = new ProcessAgent(settings.runDirectory(), settings.commandWrapper());
        this.floatingIpAgent = new FloatingIpAgent(launcher);
        this.runnersByClass = Map.of(
            AgentId.OCF, new OcfRunner(settings, launcher),
            AgentId.LSB, new LsbRunner(settings.lsbDirectory(), launcher),
            AgentId.STONITH, new StonithResourceRunner(fenceAgents, settings.runDirectory(), settings.nodeName()));
        this.runningPermits = new Semaphore(settings.maxConcurrentOperations(), true);
    }

    private static void createRunDirectories(ExecutorSettings settings) {
        try {
            Files.createDirectories(OcfEnvironment.rscTmp(settings));
            Files.createDirectories(OcfEnvironment.varRun(settings));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the run directory " + settings.runDirectory()
                + "; give the executor a writable directory of its own", e);
        }
    }

    public ExecutorSettings settings() {
        return settings;
    }

    /** The fence agent runner sharing this executor's process handling (closed with it). */
    public FenceAgentRunner fenceAgents() {
        return fenceAgents;
    }

    /**
     * Queues one operation behind the resource's earlier ones. The future completes with the result;
     * it completes exceptionally only if herd itself has a bug.
     */
    public CompletableFuture<OperationResult> execute(OperationRequest request) {
        CompletableFuture<OperationResult> future = new CompletableFuture<>();
        synchronized (lock) {
            if (closed) {
                future.complete(refused(request, ExecStatus.CANCELLED, "the executor is closed"));
                return future;
            }
            Lane lane = lanes.computeIfAbsent(request.resourceId(), id -> new Lane());
            if (lane.waiting.size() >= MAX_QUEUED_OPERATIONS_PER_RESOURCE) {
                future.complete(refused(request, ExecStatus.ERROR, "too many operations queued for " + request.resourceId()
                    + " (at most " + MAX_QUEUED_OPERATIONS_PER_RESOURCE + ")"));
                return future;
            }
            lane.waiting.add(new Queued(request, future));
            if (!lane.running) {
                lane.running = true;
                startNext(request.resourceId(), lane);
            }
        }
        return future;
    }

    /** Must hold {@link #lock}. */
    private void startNext(String resourceId, Lane lane) {
        Queued next = lane.waiting.poll();
        lane.thread = Thread.ofVirtual().name("herd-op-" + next.request().key()).start(() -> {
            complete(next);
            synchronized (lock) {
                if (lane.waiting.isEmpty() || closed) {
                    lane.running = false;
                    lane.thread = null;
                    lanes.remove(resourceId);
                } else {
                    startNext(resourceId, lane);
                }
            }
        });
    }

    private void complete(Queued queued) {
        try {
            queued.future().complete(runWithPermit(queued.request()));
        } catch (RuntimeException | Error e) {
            log.error("operation {} failed inside herd", queued.request().key(), e);
            queued.future().completeExceptionally(e);
        }
    }

    private OperationResult runWithPermit(OperationRequest request) {
        long startedEpochMillis = clock.millis();
        long startedNanos = System.nanoTime();
        try {
            runningPermits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return refused(request, ExecStatus.CANCELLED, "interrupted while waiting to run");
        }
        AgentAnswer answer;
        try {
            answer = runnerFor(request.agent()).run(request);
        } finally {
            runningPermits.release();
        }
        OperationResult result = new OperationResult(request.resourceId(), request.action(), request.intervalMillis(),
            answer.rc(), answer.status(), answer.exitReason(), startedEpochMillis, (System.nanoTime() - startedNanos) / 1_000_000);
        if (request.intervalMillis() > 0) {
            log.debug("{} {}", request.agent(), result); // recurring: only changes are worth a line, see Recurring
        } else {
            log.info("{} {}", request.agent(), result);
        }
        return result;
    }

    private AgentRunner runnerFor(AgentId agent) {
        if (agent.agentClass().equals(AgentId.HERD)) {
            return switch (agent.type()) {
                case "process" -> processAgent;
                case "floating-ip" -> floatingIpAgent;
                default -> throw new IllegalStateException("AgentId accepted an unknown built-in agent " + agent);
            };
        }
        AgentRunner runner = runnersByClass.get(agent.agentClass());
        if (runner == null) {
            throw new IllegalStateException("AgentId accepted an unknown agent class " + agent);
        }
        return runner;
    }

    private OperationResult refused(OperationRequest request, ExecStatus status, String reason) {
        return new OperationResult(request.resourceId(), request.action(), request.intervalMillis(),
            OcfExit.ERR_GENERIC.code(), status, reason, clock.millis(), 0);
    }

    /**
     * Runs {@code monitor} every {@code intervalMillis} (the first run one interval from now, the next
     * one interval after each run ends), serialized with the resource's other operations. The
     * listener hears the first result and then every change of (rc, status). Replaces a recurring
     * operation with the same key.
     */
    public void startRecurring(OperationRequest monitor, Consumer<OperationResult> listener) {
        if (monitor.intervalMillis() <= 0) {
            throw new IllegalArgumentException("recurring operation " + monitor.key() + " needs an interval above 0 ms");
        }
        Objects.requireNonNull(listener, "listener");
        RecurringKey key = new RecurringKey(monitor.resourceId(), monitor.action(), monitor.intervalMillis());
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the executor is closed; cannot start " + monitor.key());
            }
            if (!recurring.containsKey(key) && recurring.size() >= MAX_RECURRING_OPERATIONS) {
                throw new IllegalStateException("too many recurring operations (at most " + MAX_RECURRING_OPERATIONS + ")");
            }
            Recurring previous = recurring.remove(key);
            if (previous != null) {
                previous.cancel();
            }
            Recurring started = new Recurring(key, monitor, listener);
            recurring.put(key, started);
            started.scheduleNext();
        }
    }

    /** Stops a recurring operation; true if there was one. A run in progress finishes unreported. */
    public boolean cancelRecurring(String resourceId, String action, long intervalMillis) {
        Recurring removed;
        synchronized (lock) {
            removed = recurring.remove(new RecurringKey(resourceId, action, intervalMillis));
        }
        if (removed != null) {
            removed.cancel();
        }
        return removed != null;
    }

    /** Stops every recurring operation of a resource; returns how many. */
    public int cancelAll(String resourceId) {
        List<Recurring> removed;
        synchronized (lock) {
            removed = recurring.values().stream().filter(r -> r.key.resourceId().equals(resourceId)).toList();
            removed.forEach(r -> recurring.remove(r.key));
        }
        removed.forEach(Recurring::cancel);
        return removed.size();
    }

    /** The agent's meta-data XML (herd writes it for built-in and LSB agents). Blocks. */
    public String metaData(AgentId agent) throws AgentUnavailableException {
        OperationRequest request = new OperationRequest("meta-data", agent, OcfRunner.META_DATA, 0, METADATA_TIMEOUT_MILLIS, Map.of());
        AgentAnswer answer = runnerFor(agent).run(request);
        if (!answer.succeeded() || answer.output().isBlank()) {
            throw new AgentUnavailableException(agent, new OperationResult("meta-data", OcfRunner.META_DATA, 0, answer.rc(),
                answer.status(), answer.exitReason().isEmpty() ? "the agent printed no meta-data" : answer.exitReason(),
                clock.millis(), 0));
        }
        return answer.output();
    }

    /** The agent's meta-data, parsed: its parameters and which are required. Blocks. */
    public AgentMetadata describe(AgentId agent) throws AgentUnavailableException {
        String xml = metaData(agent);
        try {
            return AgentMetadata.parse(agent, xml);
        } catch (IllegalArgumentException e) {
            throw new AgentUnavailableException(agent, new OperationResult("meta-data", OcfRunner.META_DATA, 0,
                OcfExit.ERR_GENERIC.code(), ExecStatus.ERROR, e.getMessage(), clock.millis(), 0));
        }
    }

    /** Stops recurring operations, cancels queued ones and kills the process groups of running agents. */
    @Override
    public void close() {
        List<Recurring> stopped;
        List<Queued> dropped = new java.util.ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            stopped = List.copyOf(recurring.values());
            recurring.clear();
            lanes.values().forEach(lane -> {
                dropped.addAll(lane.waiting);
                lane.waiting.clear();
                if (lane.thread != null) {
                    // Built-in agents wait in Java (health checks, stop grace); agents' children are killed below.
                    lane.thread.interrupt();
                }
            });
        }
        stopped.forEach(Recurring::cancel);
        dropped.forEach(q -> q.future().complete(refused(q.request(), ExecStatus.CANCELLED, "the executor is closed")));
        launcher.close();
        if (ownsScheduler) {
            scheduler.close();
        }
    }

    /** Runs an operation and waits; for callers that are on a virtual thread already. */
    public OperationResult executeAndWait(OperationRequest request) throws InterruptedException {
        try {
            return execute(request).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("operation " + request.key() + " failed inside herd", e.getCause());
        }
    }

    private record Queued(OperationRequest request, CompletableFuture<OperationResult> future) {
    }

    private static final class Lane {
        final ArrayDeque<Queued> waiting = new ArrayDeque<>();
        boolean running;
        /** The virtual thread running the lane's current operation, interrupted on close. */
        Thread thread;
    }

    private record RecurringKey(String resourceId, String action, long intervalMillis) {
    }

    private final class Recurring {
        final RecurringKey key;
        final OperationRequest request;
        final Consumer<OperationResult> listener;
        final RecurringReports reports = new RecurringReports();
        volatile MonitorScheduler.Scheduled next;
        volatile boolean cancelled;

        Recurring(RecurringKey key, OperationRequest request, Consumer<OperationResult> listener) {
            this.key = key;
            this.request = request;
            this.listener = listener;
        }

        void scheduleNext() {
            if (!cancelled) {
                next = scheduler.schedule(request.intervalMillis(), this::fire);
            }
        }

        void fire() {
            if (cancelled) {
                return;
            }
            execute(request).whenComplete((result, failure) -> {
                if (cancelled) {
                    return;
                }
                if (result != null && reports.shouldReport(result)) {
                    log.info("{} {} (recurring, changed)", request.agent(), result);
                    notifyListener(result);
                }
                synchronized (lock) {
                    if (!closed && recurring.get(key) == this) {
                        scheduleNext();
                    }
                }
            });
        }

        private void notifyListener(OperationResult result) {
            try {
                listener.accept(result);
            } catch (RuntimeException e) {
                log.error("listener of {} failed", request.key(), e);
            }
        }

        void cancel() {
            cancelled = true;
            MonitorScheduler.Scheduled scheduled = next;
            if (scheduled != null) {
                scheduled.cancel();
            }
        }
    }
}
