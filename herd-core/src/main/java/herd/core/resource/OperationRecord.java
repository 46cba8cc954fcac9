package herd.core.resource;

/**
 * One completed operation of a resource agent on a node, as the node's executor reports it: what
 * Pacemaker keeps as an lrm_rsc_op.
 *
 * @param resource           the resource (or clone instance) id
 * @param agent              class:provider:type, e.g. ocf:heartbeat:Dummy
 * @param operation          start, stop, monitor, promote, demote, notify
 * @param intervalMillis     0 for one-off operations (a monitor with interval 0 is a probe)
 * @param rc                 the agent's OCF exit code
 * @param execStatus         the executor's status in Pacemaker's numbering (0 done, 1 cancelled,
 *                           2 timed out, 3 not supported, 4 error, 5 hard error, 6 fatal, 7 not installed)
 * @param expectedRc         the exit code the coordinator asked for (0 for start, stop and a started
 *                           monitor, 8 for a promoted monitor, 7 for a probe of a stopped resource)
 * @param callId             the executor's call counter on that node, increasing
 * @param startedEpochMillis when the agent was started
 * @param durationMillis     how long it ran
 * @param exitReason         the agent's last ocf-exit-reason line, or herd's reason; empty when none
 */
public record OperationRecord(String resource, String agent, String operation, long intervalMillis, int rc, int execStatus,
                              int expectedRc, long callId, long startedEpochMillis, long durationMillis, String exitReason) {

    public static final int EXEC_DONE = 0;
    public static final int EXEC_CANCELLED = 1;
    public static final int RC_OK = 0;
    public static final int RC_NOT_RUNNING = 7;
    public static final int RC_RUNNING_PROMOTED = 8;

    public OperationRecord {
        exitReason = exitReason == null ? "" : exitReason;
    }

    public boolean isProbe() {
        return "monitor".equals(operation) && intervalMillis == 0;
    }

    public boolean isRecurring() {
        return intervalMillis > 0;
    }

    /**
     * A failure counts against the resource (fail count, last failure). A probe only discovers the
     * state, so "running", "not running" and "running promoted" are all answers, not failures.
     */
    public boolean isFailure() {
        if (execStatus == EXEC_CANCELLED) {
            return false;
        }
        if (execStatus != EXEC_DONE) {
            return true;
        }
        if (isProbe()) {
            return rc != RC_OK && rc != RC_NOT_RUNNING && rc != RC_RUNNING_PROMOTED;
        }
        return rc != expectedRc;
    }

    /** The operation and interval, e.g. "monitor_10000": with the resource, Pacemaker's operation key. */
    public String operationName() {
        return operation + "_" + intervalMillis;
    }

    public long endedEpochMillis() {
        return startedEpochMillis + durationMillis;
    }
}
