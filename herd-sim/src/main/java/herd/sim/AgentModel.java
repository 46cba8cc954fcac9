package herd.sim;

import herd.coordinator.ActionRequest;
import herd.sim.Scenario.AgentBehaviour;
import java.util.Random;

/**
 * The simulated resource agents: how long an operation takes and how it ends. Every draw happens
 * when the operation begins, always in the same order, so a run depends on its seed alone.
 */
final class AgentModel {
    /** Monitors and probes are quicker than starts and stops: a fraction of the configured range. */
    static final int MONITOR_SPEEDUP = 5;
    /** A failed or timed-out start leaves the process running half of the time: the scheduler must stop it. */
    static final double FAILED_START_LEAVES_RUNNING = 0.5;

    /**
     * @param timedOut      the agent hung and the executor killed it at the operation's timeout
     * @param failed        a start or stop that did not do its job (includes timing out)
     * @param leavesRunning for a failed start: the process runs anyway
     * @param falseAlarm    a recurring monitor that reports "not running" although it runs
     */
    record Plan(long durationMillis, boolean timedOut, boolean failed, boolean leavesRunning, boolean falseAlarm) {}

    private final AgentBehaviour behaviour;
    private final Random random;

    AgentModel(AgentBehaviour behaviour, Random random) {
        this.behaviour = behaviour;
        this.random = random;
    }

    Plan plan(ActionRequest request, boolean misbehave) {
        double hangRoll = random.nextDouble();
        double failRoll = random.nextDouble();
        double leaveRoll = random.nextDouble();
        double alarmRoll = random.nextDouble();
        boolean monitor = "monitor".equals(request.operation());
        long spread = behaviour.maxMillis() - behaviour.minMillis();
        long duration = behaviour.minMillis() + random.nextLong((monitor ? spread / MONITOR_SPEEDUP : spread) + 1);
        boolean timedOut = misbehave && hangRoll < behaviour.hang();
        if (timedOut) {
            duration = request.timeoutMillis();
        } else {
            duration = Math.min(duration, request.timeoutMillis() - 1);
        }
        boolean failed = switch (request.operation()) {
            case "start" -> timedOut || (misbehave && failRoll < behaviour.startFailure());
            case "stop" -> timedOut || (misbehave && failRoll < behaviour.stopFailure());
            default -> timedOut;
        };
        boolean falseAlarm = monitor && request.intervalMillis() > 0 && misbehave && alarmRoll < behaviour.falseMonitorAlarm();
        return new Plan(duration, timedOut, failed, leaveRoll < FAILED_START_LEAVES_RUNNING, falseAlarm);
    }
}
