package herd.agent;

/**
 * What happened to one operation, in Pacemaker's terms: {@code rc} is the OCF exit code the agent
 * answered (see {@link OcfExit}), {@code status} how the execution ended, {@code exitReason} the
 * agent's last {@code ocf-exit-reason:} line or a short reason herd wrote ("" when there is none).
 */
public record OperationResult(String resourceId, String action, long intervalMillis, int rc, ExecStatus status,
                              String exitReason, long startedEpochMillis, long durationMillis) {

    public OperationResult {
        exitReason = exitReason == null ? "" : exitReason;
    }

    /** True when the agent ran and answered 0. */
    public boolean succeeded() {
        return status == ExecStatus.DONE && rc == OcfExit.OK.code();
    }

    @Override
    public String toString() {
        String meaning = OcfExit.isDefined(rc) ? OcfExit.of(rc).meaning() : "unknown";
        return resourceId + "_" + action + "_" + intervalMillis + ": rc=" + rc + " (" + meaning + ") status=" + status
            + (exitReason.isEmpty() ? "" : " reason=\"" + exitReason + "\"") + " in " + durationMillis + " ms";
    }
}
