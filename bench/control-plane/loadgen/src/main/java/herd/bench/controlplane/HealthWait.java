package herd.bench.controlplane;

import java.time.Duration;
import java.util.List;

/**
 * Waits until the cluster is whole: every member serves a linearizable read (so it has a leader and has
 * caught up) and some member names the leader.
 */
final class HealthWait {

    private static final long PAUSE_BETWEEN_CHECKS_MILLIS = 200;

    private HealthWait() {
    }

    static void untilHealthy(KvSystem system, List<Member> members, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastProblem = "not checked yet";
        while (System.nanoTime() < deadline) {
            lastProblem = firstProblem(system, members);
            if (lastProblem == null) {
                return;
            }
            Thread.sleep(PAUSE_BETWEEN_CHECKS_MILLIS);
        }
        throw new IllegalStateException("the " + system.label() + " cluster did not become healthy within "
                + timeout.toSeconds() + " s: " + lastProblem);
    }

    /** Null when healthy; otherwise what is wrong, for the error message. */
    private static String firstProblem(KvSystem system, List<Member> members) {
        for (Member member : members) {
            try {
                system.clientFor(member).get("health0");
            } catch (Exception e) {
                return member.name() + " (" + member.hostPort() + ") cannot serve a linearizable read: " + e;
            }
        }
        try {
            system.leaderName(members);
            return null;
        } catch (Exception e) {
            return e.getMessage();
        }
    }
}
