package herd.agent.fence;

import herd.agent.ExecStatus;

/**
 * One fence agent run.
 *
 * @param exitCode the agent's exit code (-1 when it did not finish); for STATUS, 0 is on and 2 off
 * @param reason   "" on success, else why it failed (the agent's last error line, or herd's reason)
 */
public record FenceResult(String deviceId, String targetNode, FenceAction action, ExecStatus status, int exitCode,
                          String reason, long durationMillis) {

    public FenceResult {
        reason = reason == null ? "" : reason;
    }

    public boolean success() {
        return status == ExecStatus.DONE && exitCode == 0;
    }

    @Override
    public String toString() {
        return deviceId + " " + action.word() + " " + targetNode + ": "
            + (success() ? "ok" : status + " exit " + exitCode + (reason.isEmpty() ? "" : " (" + reason + ")"));
    }
}
