package herd.agent.runner;

import herd.agent.ExecStatus;
import herd.agent.OcfExit;

/**
 * What a runner reports for one operation, before the executor adds timing.
 *
 * @param rc         OCF exit code
 * @param status     how the execution ended
 * @param exitReason the agent's last ocf-exit-reason, or a short reason herd wrote, or ""
 * @param output     the agent's standard output (the XML for meta-data; a bounded tail otherwise)
 */
public record AgentAnswer(int rc, ExecStatus status, String exitReason, String output) {

    public AgentAnswer {
        exitReason = exitReason == null ? "" : exitReason;
        output = output == null ? "" : output;
    }

    public static AgentAnswer done(OcfExit exit, String reason) {
        return new AgentAnswer(exit.code(), ExecStatus.DONE, reason, "");
    }

    public static AgentAnswer ok() {
        return done(OcfExit.OK, "");
    }

    public static AgentAnswer notRunning(String reason) {
        return done(OcfExit.NOT_RUNNING, reason);
    }

    public static AgentAnswer error(String reason) {
        return done(OcfExit.ERR_GENERIC, reason);
    }

    public static AgentAnswer notConfigured(String reason) {
        return done(OcfExit.ERR_CONFIGURED, reason);
    }

    public static AgentAnswer notInstalled(String reason) {
        return new AgentAnswer(OcfExit.ERR_INSTALLED.code(), ExecStatus.NOT_INSTALLED, reason, "");
    }

    public static AgentAnswer notSupported(String agent, String action) {
        return new AgentAnswer(OcfExit.ERR_UNIMPLEMENTED.code(), ExecStatus.NOT_SUPPORTED,
            agent + " does not support the action '" + action + "'", "");
    }

    public static AgentAnswer timedOut(long timeoutMillis) {
        return new AgentAnswer(OcfExit.ERR_GENERIC.code(), ExecStatus.TIMEOUT, "timed out after " + timeoutMillis + " ms", "");
    }

    public static AgentAnswer cancelled() {
        return new AgentAnswer(OcfExit.ERR_GENERIC.code(), ExecStatus.CANCELLED, "cancelled: the executor is closing", "");
    }

    public static AgentAnswer failed(String reason) {
        return new AgentAnswer(OcfExit.ERR_GENERIC.code(), ExecStatus.ERROR, reason, "");
    }

    public static AgentAnswer metadata(String xml) {
        return new AgentAnswer(OcfExit.OK.code(), ExecStatus.DONE, "", xml);
    }

    public boolean succeeded() {
        return status == ExecStatus.DONE && rc == OcfExit.OK.code();
    }
}
