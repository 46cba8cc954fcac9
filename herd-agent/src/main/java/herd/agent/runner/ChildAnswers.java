package herd.agent.runner;

import herd.agent.ExecStatus;
import herd.agent.OcfExit;
import herd.agent.exec.ChildOutcome;
import java.util.Optional;
import java.util.function.IntUnaryOperator;

/** Maps how a child ended to an answer in OCF terms. Pure. */
public final class ChildAnswers {

    /** The prefix of the line an OCF agent writes to stderr to say why it failed. */
    public static final String EXIT_REASON_PREFIX = "ocf-exit-reason:";
    private static final int SIGNAL_EXIT_BASE = 128;
    private static final int MAX_EXIT_REASON_CHARS = 512;

    private ChildAnswers() {
    }

    /** The agent's last {@code ocf-exit-reason:} line on stderr, if any. */
    public static Optional<String> exitReason(String stderr) {
        String found = null;
        for (String line : stderr.split("\n")) {
            int at = line.indexOf(EXIT_REASON_PREFIX);
            if (at >= 0) {
                found = line.substring(at + EXIT_REASON_PREFIX.length()).strip();
            }
        }
        if (found == null || found.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(found.length() > MAX_EXIT_REASON_CHARS ? found.substring(0, MAX_EXIT_REASON_CHARS) : found);
    }

    /** An OCF agent's answer: its exit code is the rc. */
    public static AgentAnswer fromOcf(ChildOutcome outcome, String agentName) {
        return fromCodes(outcome, agentName, code -> code);
    }

    /**
     * An answer where {@code toOcf} translates the child's own exit code (0..255) to an OCF code;
     * codes it maps outside 0..9 become errors.
     */
    public static AgentAnswer fromCodes(ChildOutcome outcome, String agentName, IntUnaryOperator toOcf) {
        return switch (outcome) {
            case ChildOutcome.Exited exited -> fromExit(exited, agentName, toOcf);
            case ChildOutcome.TimedOut timedOut -> AgentAnswer.timedOut(timedOut.timeoutMillis());
            case ChildOutcome.Cancelled cancelled -> AgentAnswer.cancelled();
            case ChildOutcome.LaunchFailed failed -> AgentAnswer.failed(failed.reason());
        };
    }

    private static AgentAnswer fromExit(ChildOutcome.Exited exited, String agentName, IntUnaryOperator toOcf) {
        Optional<String> agentReason = exitReason(exited.stderr());
        int code = exited.exitCode();
        if (code > SIGNAL_EXIT_BASE) {
            return new AgentAnswer(OcfExit.ERR_GENERIC.code(), ExecStatus.ERROR,
                agentReason.orElse(agentName + " was killed by signal " + (code - SIGNAL_EXIT_BASE)), exited.stdout());
        }
        int rc = toOcf.applyAsInt(code);
        if (!OcfExit.isDefined(rc)) {
            return new AgentAnswer(OcfExit.ERR_GENERIC.code(), ExecStatus.ERROR,
                agentReason.orElse(agentName + " exited with code " + code + ", which is not an OCF exit code"), exited.stdout());
        }
        String reason = agentReason.orElse(rc == 0 ? "" : defaultReason(agentName, rc, exited.stderr()));
        return new AgentAnswer(rc, ExecStatus.DONE, reason, exited.stdout());
    }

    /** Without an exit reason, the last line of stderr says most; "not running" needs no reason. */
    private static String defaultReason(String agentName, int rc, String stderr) {
        if (rc == OcfExit.NOT_RUNNING.code() || rc == OcfExit.RUNNING_PROMOTED.code()) {
            return "";
        }
        String[] lines = stderr.strip().split("\n");
        String last = lines[lines.length - 1].strip();
        if (last.isEmpty()) {
            return "";
        }
        return last.length() > MAX_EXIT_REASON_CHARS ? last.substring(last.length() - MAX_EXIT_REASON_CHARS) : last;
    }
}
