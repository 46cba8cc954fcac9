package herd.scheduler.model;

/**
 * One entry of a resource's operation history on a node (an lrm_rsc_op).
 *
 * @param rc        the agent's exit code (0 ok, 7 not running, 8 running promoted, 9 failed promoted)
 * @param opStatus  the executor's status (0 done, 1 cancelled, 2 timed out, 3 not supported, 4 error, -1 pending)
 * @param targetRc  the exit code the controller expected, or -1 when unknown
 */
public record OpRecord(String id, String operation, long intervalMs, int rc, int opStatus, int callId,
                       int targetRc, long lastRcChangeSec, long lastRunSec, String opDigest,
                       String migrateSource, String migrateTarget, String exitReason) {
    public boolean isProbe() {
        return "monitor".equals(operation) && intervalMs == 0;
    }
}
