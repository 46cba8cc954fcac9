package herd.sim;

import herd.coordinator.ActionRequest;
import herd.core.resource.OperationRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One simulated node: its heartbeats and lease, and its executor, which runs the leader's actions
 * one at a time per resource (a clone instance id is a resource of its own, as in herd's executor)
 * against the simulated agents, keeps recurring monitors running, and
 * reports results through the leader until they are acknowledged.
 */
final class SimNode {
    /** Actions waiting per resource; beyond this the node refuses more (the leader sends them again). */
    static final int QUEUE_MAX = 16;
    /** Reports kept until the leader acknowledges them; the oldest is dropped beyond this. */
    static final int OUTBOX_MAX = 256;
    /** A report not acknowledged within this is sent again with the next heartbeat. */
    static final long REPORT_RESEND_AFTER_MILLIS = 1_000;
    /**
     * A lease that runs out is noticed up to this late: the real node's lease loop wakes when the lease
     * would run out ({@code NodeAgent}), and a busy machine runs it somewhat after that.
     */
    static final long LEASE_CHECK_INTERVAL_MILLIS = 50;
    /** At most this long for the node's own stop of everything after its lease ran out (within the leader's margin). */
    static final long SELF_STOP_MAX_MILLIS = 400;

    /** @param sender the leadership that sent it, told when it is done (opaque here) */
    private record Op(ActionRequest request, long decidedAtIndex, Monitor monitor, Object sender) {}

    private static final class Monitor {
        final ActionRequest request;
        Integer lastRc;
        Integer lastExecStatus;
        boolean queued;

        Monitor(ActionRequest request) {
            this.request = request;
        }
    }

    /** @param answered the action whose sender is answered once the report is acknowledged, or null */
    private record Report(List<OperationRecord> records, long[] lastSentMillis, Op answered) {}

    final String name;
    private final Simulation sim;

    private boolean powered = true;
    private int incarnation = 1;
    private long lastCallId;
    private boolean inGoodStanding;
    private boolean stopping;
    /** Until its first acknowledged heartbeat after a boot, the node tells the leader it restarted empty. */
    private boolean fresh = true;
    private long lastAckSentAtMillis = Long.MIN_VALUE;
    /** Bumped when everything in progress is abandoned (power off, lease lost): stale completions are ignored. */
    private long epoch;

    private final TreeMap<String, ArrayDeque<Op>> queues = new TreeMap<>();
    private final TreeSet<String> busy = new TreeSet<>();
    private final TreeMap<String, Monitor> monitors = new TreeMap<>();
    /** What this node believes it runs (started or found running, not stopped since), as herd's node agent tracks it. */
    private final TreeSet<String> active = new TreeSet<>();
    private final TreeMap<Long, Report> outbox = new TreeMap<>();
    /** Resources whose stop on losing the lease the leader has not acknowledged yet: reported again with the next one. */
    private final TreeSet<String> unacknowledgedSelfStops = new TreeSet<>();
    private long selfStopReportSequence = -1;
    private long nextReportSequence;

    SimNode(String name, Simulation sim) {
        this.name = name;
        this.sim = sim;
        this.lastCallId = 0;
    }

    boolean powered() {
        return powered;
    }

    int incarnation() {
        return incarnation;
    }

    boolean inGoodStanding() {
        return inGoodStanding;
    }

    // ------------------------------------------------------------------ power

    void boot() {
        powered = true;
        fresh = true;
        inGoodStanding = false;
        stopping = false;
        lastAckSentAtMillis = Long.MIN_VALUE;
        // Call numbers start from the clock, so they keep increasing across reboots, as the real executor's do.
        lastCallId = Math.max(lastCallId, sim.now() * 1000);
        long firstHeartbeat = sim.now() + sim.random().nextLong(sim.settings().heartbeatIntervalMillis());
        int current = incarnation;
        sim.schedule(firstHeartbeat, name + " heartbeat", () -> heartbeatDue(current));
    }

    void powerOff() {
        powered = false;
        incarnation++;
        abandonWork();
        outbox.clear();
        unacknowledgedSelfStops.clear();
        inGoodStanding = false;
        stopping = false;
        sim.truth().clearNode(name);
        active.clear();
    }

    private void abandonWork() {
        epoch++;
        queues.clear();
        busy.clear();
    }

    // ------------------------------------------------------------------ heartbeats and lease

    private void heartbeatDue(int bootIncarnation) {
        if (!powered || bootIncarnation != incarnation) {
            return;
        }
        sim.sendHeartbeat(this, sim.now(), fresh, settled());
        resendReports();
        sim.schedule(sim.now() + sim.settings().heartbeatIntervalMillis(), name + " heartbeat", () -> heartbeatDue(bootIncarnation));
    }

    /** Nothing running or waiting in the executor (recurring monitors aside) and every result acknowledged. */
    private boolean settled() {
        return busy.isEmpty() && outbox.isEmpty() && !stopping;
    }

    void onHeartbeatAcknowledged(long sentAtMillis) {
        if (!powered) {
            return;
        }
        lastAckSentAtMillis = Math.max(lastAckSentAtMillis, sentAtMillis);
        fresh = false;
        if (!inGoodStanding && !stopping) {
            inGoodStanding = true;
            sim.note(name + " is in good standing: the leader acknowledges it");
        }
        long checkAt = lastAckSentAtMillis + sim.settings().leaseMillis() + 1
            + sim.random().nextLong(LEASE_CHECK_INTERVAL_MILLIS);
        int current = incarnation;
        sim.schedule(checkAt, name + " lease check", () -> leaseCheck(current));
    }

    void onDeclaredLost() {
        if (powered && inGoodStanding) {
            loseStanding("the leader declared it lost");
        }
    }

    private void leaseCheck(int bootIncarnation) {
        long silentMillis = sim.now() - lastAckSentAtMillis;
        if (powered && bootIncarnation == incarnation && inGoodStanding && silentMillis > sim.settings().leaseMillis()) {
            loseStanding("lease expired: no heartbeat acknowledged for " + silentMillis + " ms");
        }
    }

    /** no-quorum-policy=stop: everything here stops, and nothing runs until the leader acknowledges it again. */
    private void loseStanding(String why) {
        inGoodStanding = false;
        stopping = true;
        abandonWork();
        List<OperationRecord> cancelled = new ArrayList<>();
        for (Monitor monitor : monitors.values()) {
            cancelled.add(cancelledRecord(monitor.request));
        }
        monitors.clear();
        // What it reported before is moot: everything stops now, and the leader learns that instead,
        // also of the resources whose last results were never acknowledged (a stop that finished
        // just before the lease ran out would otherwise never reach the cluster state).
        TreeSet<String> unreported = new TreeSet<>();
        outbox.values().forEach(report -> report.records().forEach(record -> unreported.add(record.resource())));
        outbox.clear();
        sim.note(name + " stops everything: " + why);
        long stoppedAt = sim.now() + sim.random().nextLong(SELF_STOP_MAX_MILLIS + 1);
        long current = epoch;
        sim.schedule(stoppedAt, name + " finishes stopping everything", () -> {
            if (current == epoch && powered) {
                finishSelfStop(cancelled, unreported);
            }
        });
    }

    private void finishSelfStop(List<OperationRecord> cancelled, Set<String> unreported) {
        List<OperationRecord> records = new ArrayList<>(cancelled);
        TreeSet<String> stopped = new TreeSet<>(active);
        stopped.addAll(unreported);
        stopped.addAll(sim.truth().clearNode(name));
        stopped.addAll(unacknowledgedSelfStops);
        active.clear();
        for (String resource : stopped) {
            records.add(new OperationRecord(resource, sim.agentOf(Simulation.baseOf(resource)), "stop", 0, OperationRecord.RC_OK, OperationRecord.EXEC_DONE,
                0, ++lastCallId, sim.now(), 0, "stopped by the node itself: its lease expired"));
        }
        stopping = false;
        sim.note(name + " stopped everything; waits for the leader's acknowledgement");
        if (sim.protocol().reportLeaseStops() && !records.isEmpty()) {
            unacknowledgedSelfStops.clear();
            unacknowledgedSelfStops.addAll(stopped);
            selfStopReportSequence = report(records);
        }
    }

    // ------------------------------------------------------------------ actions

    void receiveAction(ActionRequest request, long decidedAtIndex, Object sender) {
        if (!powered) {
            return;
        }
        if (!inGoodStanding) {
            sim.actionDone(this, request, sender, "refused: no acknowledged heartbeat, it runs nothing until the leader acknowledges it");
            return;
        }
        if (request.intervalMillis() > 0) {
            startMonitor(request);
            return;
        }
        if (List.of("stop", "promote", "demote").contains(request.operation())) {
            cancelMonitors(request.resource());
        }
        enqueue(new Op(request, decidedAtIndex, null, sender));
    }

    private void enqueue(Op op) {
        String resource = op.request().resource();
        ArrayDeque<Op> queue = queues.computeIfAbsent(resource, r -> new ArrayDeque<>());
        if (queue.size() >= QUEUE_MAX) {
            sim.actionDone(this, op.request(), op.sender(), "refused: " + QUEUE_MAX + " operations of " + resource + " already wait");
            return;
        }
        queue.addLast(op);
        if (!busy.contains(resource)) {
            beginNext(resource);
        }
    }

    private void beginNext(String resource) {
        ArrayDeque<Op> queue = queues.get(resource);
        Op op = queue == null ? null : queue.pollFirst();
        if (op == null) {
            busy.remove(resource);
            return;
        }
        busy.add(resource);
        ActionRequest request = op.request();
        AgentModel.Plan plan = sim.agents().plan(request, sim.misbehaving());
        if ("start".equals(request.operation()) || "promote".equals(request.operation())) {
            sim.checkStartAllowed(name, request, op.decidedAtIndex());
        }
        if ("start".equals(request.operation())) {
            // The process exists from the moment the start begins: the conservative view for safety.
            sim.truth().started(name, resource);
        }
        long current = epoch;
        sim.schedule(sim.now() + plan.durationMillis(), name + " " + describe(request) + " ends", () -> {
            if (current == epoch && powered) {
                finish(op, plan);
            }
        });
    }

    private void finish(Op op, AgentModel.Plan plan) {
        ActionRequest request = op.request();
        String resource = request.resource();
        int rc = agentAnswer(request, resource, plan);
        int execStatus = plan.timedOut() ? 2 : OperationRecord.EXEC_DONE;
        track(request, rc);
        OperationRecord record = new OperationRecord(request.resource(), request.agent(), request.operation(),
            request.intervalMillis(), rc, execStatus, request.expectedRc(), ++lastCallId, sim.now() - plan.durationMillis(),
            plan.durationMillis(), plan.timedOut() ? "timed out" : "");
        sim.note(name + " " + describe(request) + " -> rc " + rc + (plan.timedOut() ? " (timed out)" : "")
            + (op.monitor() != null && !monitorChanged(op.monitor(), rc, execStatus) ? " (unchanged, not reported)" : ""));
        if (op.monitor() == null && "notify".equals(request.operation())) {
            sim.actionDone(this, request, op.sender(), "done"); // answered, not recorded, as herd's node agent does
        } else if (op.monitor() == null) {
            // As herd's node agent answers the leader's call only once the result is recorded.
            report(List.of(record), op);
        } else {
            Monitor monitor = op.monitor();
            monitor.queued = false;
            boolean current = monitors.get(monitorKey(monitor.request)) == monitor;
            if (current && monitorChanged(monitor, rc, execStatus)) {
                report(List.of(record));
            }
            monitor.lastRc = rc;
            monitor.lastExecStatus = execStatus;
        }
        beginNext(resource);
    }

    /** What the agent answers, and what its operation did to the process. */
    private int agentAnswer(ActionRequest request, String resource, AgentModel.Plan plan) {
        switch (request.operation()) {
            case "start" -> {
                if (!plan.failed()) {
                    return OperationRecord.RC_OK;
                }
                if (!plan.leavesRunning()) {
                    sim.truth().stopped(name, resource);
                }
                return 1;
            }
            case "stop" -> {
                if (plan.failed()) {
                    return 1;
                }
                sim.truth().stopped(name, resource);
                return OperationRecord.RC_OK;
            }
            case "monitor" -> {
                if (plan.timedOut()) {
                    return 1;
                }
                boolean runs = sim.truth().runs(name, resource);
                return runs && !plan.falseAlarm() ? OperationRecord.RC_OK : OperationRecord.RC_NOT_RUNNING;
            }
            default -> {
                return plan.failed() ? 1 : OperationRecord.RC_OK;
            }
        }
    }

    /** Keeps {@link #active} as herd's node agent does: a failed start may have left the process running. */
    private void track(ActionRequest request, int rc) {
        String resource = request.resource();
        switch (request.operation()) {
            case "start", "promote", "demote" -> {
                if (rc != OperationRecord.RC_NOT_RUNNING) {
                    active.add(resource);
                }
            }
            case "stop" -> {
                if (rc == OperationRecord.RC_OK) {
                    active.remove(resource);
                }
            }
            case "monitor" -> {
                if (rc == OperationRecord.RC_OK || rc == OperationRecord.RC_RUNNING_PROMOTED) {
                    active.add(resource);
                } else if (rc == OperationRecord.RC_NOT_RUNNING && request.intervalMillis() == 0) {
                    active.remove(resource);
                }
            }
            default -> { }
        }
    }

    private static boolean monitorChanged(Monitor monitor, int rc, int execStatus) {
        return monitor.lastRc == null || monitor.lastRc != rc || monitor.lastExecStatus != execStatus;
    }

    // ------------------------------------------------------------------ recurring monitors

    /** A (re-)sent recurring monitor replaces the one running: it reports its first result again. */
    private void startMonitor(ActionRequest request) {
        Monitor monitor = new Monitor(request);
        monitors.put(monitorKey(request), monitor);
        runMonitor(monitor, epoch);
    }

    private void runMonitor(Monitor monitor, long monitorEpoch) {
        if (monitorEpoch != epoch || !powered || monitors.get(monitorKey(monitor.request)) != monitor) {
            return;
        }
        if (!monitor.queued) {
            monitor.queued = true;
            enqueue(new Op(monitor.request, -1, monitor, null));
        }
        sim.schedule(sim.now() + monitor.request.intervalMillis(), name + " " + describe(monitor.request) + " due",
            () -> runMonitor(monitor, monitorEpoch));
    }

    /** Before a stop, promote or demote: the resource's recurring monitors end, reported as cancelled. */
    private void cancelMonitors(String resource) {
        List<OperationRecord> cancelled = new ArrayList<>();
        monitors.values().removeIf(monitor -> {
            if (!monitor.request.resource().equals(resource)) {
                return false;
            }
            cancelled.add(cancelledRecord(monitor.request));
            return true;
        });
        ArrayDeque<Op> queue = queues.get(resource);
        if (queue != null) {
            queue.removeIf(op -> op.monitor() != null);
        }
        if (!cancelled.isEmpty()) {
            report(cancelled);
        }
    }

    private OperationRecord cancelledRecord(ActionRequest monitor) {
        return new OperationRecord(monitor.resource(), monitor.agent(), monitor.operation(), monitor.intervalMillis(), 0,
            OperationRecord.EXEC_CANCELLED, monitor.expectedRc(), ++lastCallId, sim.now(), 0, "");
    }

    private static String monitorKey(ActionRequest request) {
        return request.resource() + "_" + request.intervalMillis();
    }

    // ------------------------------------------------------------------ reports

    private long report(List<OperationRecord> records) {
        return report(records, null);
    }

    private long report(List<OperationRecord> records, Op answered) {
        long sequence = nextReportSequence++;
        Report report = new Report(List.copyOf(records), new long[] {sim.now()}, answered);
        outbox.put(sequence, report);
        if (outbox.size() > OUTBOX_MAX) {
            Map.Entry<Long, Report> dropped = outbox.pollFirstEntry();
            sim.note(name + " drops unacknowledged report " + dropped.getKey() + ": more than " + OUTBOX_MAX + " wait");
        }
        sim.sendReport(this, sequence, report.records());
        return sequence;
    }

    private void resendReports() {
        for (Map.Entry<Long, Report> entry : outbox.entrySet()) {
            long[] lastSent = entry.getValue().lastSentMillis();
            if (sim.now() - lastSent[0] >= REPORT_RESEND_AFTER_MILLIS) {
                lastSent[0] = sim.now();
                sim.sendReport(this, entry.getKey(), entry.getValue().records());
            }
        }
    }

    void onReportAcknowledged(long sequence) {
        Report report = outbox.remove(sequence);
        if (report != null && report.answered() != null) {
            sim.actionDone(this, report.answered().request(), report.answered().sender(), "done");
        }
        if (sequence == selfStopReportSequence) {
            unacknowledgedSelfStops.clear();
        }
    }

    static String describe(ActionRequest request) {
        return request.operation() + (request.intervalMillis() > 0 ? "/" + request.intervalMillis() : "") + " "
            + request.resource();
    }

    @Override
    public String toString() {
        return name + (powered ? (inGoodStanding ? " up" : stopping ? " stopping" : " up, not acknowledged") : " off");
    }
}
