package herd.bench.controlplane;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Leader failover: find the leader, kill -9 it, and time until the first write acknowledged through a
 * survivor. Then restart the killed member with the cluster script and wait until every member serves
 * linearizable reads again before the next trial.
 *
 * <p>Writes are started every {@link Settings#attemptInterval} on every survivor without waiting for the
 * earlier ones, because a write sent while a follower still believes in the dead leader can hang until
 * its timeout (etcd drops such proposals silently); a tight loop of blocking writes would measure that
 * timeout rather than the election. The clock starts just before the SIGKILL is sent.
 */
final class FailoverBench {

    record Settings(
            Duration attemptInterval,
            Duration attemptTimeout,
            int maxAttemptsInFlightPerSurvivor,
            Duration giveUpAfter,
            Duration healthTimeout) {
    }

    record TrialResult(int trial, String killedLeader, double millisToFirstAck, String newLeader) {
    }

    private static final int WARMUP_WRITES_PER_MEMBER = 50;

    /** Its requests time out with an attempt, so abandoned attempts give their connections back. */
    private final KvSystem system;
    /** Finds the leader and checks health, with a patient timeout: a slow answer is not a sick cluster. */
    private final KvSystem control;
    private final List<Member> members;
    private final Path pidDirectory;
    private final String restartCommand;
    private final Settings settings;
    private final byte[] value;
    private final PrintStream progress;
    private final AtomicLong keyCounter = new AtomicLong();

    FailoverBench(KvSystem system, KvSystem control, List<Member> members, Path pidDirectory, String restartCommand,
                  Settings settings, byte[] value, PrintStream progress) {
        this.system = system;
        this.control = control;
        this.members = members;
        this.pidDirectory = pidDirectory;
        this.restartCommand = restartCommand;
        this.settings = settings;
        this.value = value;
        this.progress = progress;
    }

    List<TrialResult> run(int trials) throws Exception {
        List<TrialResult> results = new ArrayList<>();
        for (int trial = 1; trial <= trials; trial++) {
            HealthWait.untilHealthy(control, members, settings.healthTimeout());
            warmUp();
            String leader = control.leaderName(members);
            List<Member> survivors = members.stream().filter(m -> !m.name().equals(leader)).toList();
            Instant killedAt = Instant.now();
            double millis = killAndTimeFirstAck(pidOf(leader), survivors);
            String newLeader = leaderOrUnknown(survivors);
            TrialResult result = new TrialResult(trial, leader, millis, newLeader);
            // The wall-clock time of the kill lets the servers' logs be lined up with the trial
            // (bench/control-plane/failover-phases).
            progress.printf("failover trial %d: killed leader %s at %s, first acknowledged write after %.1f ms, new leader %s%n",
                    trial, leader, killedAt, millis, newLeader);
            results.add(result);
            restart(leader);
        }
        HealthWait.untilHealthy(control, members, settings.healthTimeout()); // leave the cluster as found
        return results;
    }

    private double killAndTimeFirstAck(long leaderPid, List<Member> survivors) {
        ProcessHandle victim = ProcessHandle.of(leaderPid).filter(ProcessHandle::isAlive)
                .orElseThrow(() -> new IllegalStateException("the leader's process " + leaderPid
                        + " (from its pid file) is not running; the pid file is stale"));
        List<KvClient> clients = survivors.stream().map(system::clientFor).toList();
        List<Semaphore> slots = clients.stream().map(c -> new Semaphore(settings.maxAttemptsInFlightPerSurvivor())).toList();
        AtomicLong firstAckNanos = new AtomicLong(Long.MAX_VALUE);

        long killedAtNanos = System.nanoTime();
        if (!victim.destroyForcibly()) { // SIGKILL on Linux
            throw new IllegalStateException("could not send SIGKILL to process " + leaderPid);
        }
        long giveUpAtNanos = killedAtNanos + settings.giveUpAfter().toNanos();
        while (firstAckNanos.get() == Long.MAX_VALUE && System.nanoTime() < giveUpAtNanos) {
            for (int i = 0; i < clients.size(); i++) {
                startAttempt(clients.get(i), slots.get(i), firstAckNanos);
            }
            LockSupport.parkNanos(settings.attemptInterval().toNanos());
        }
        if (firstAckNanos.get() == Long.MAX_VALUE) {
            throw new IllegalStateException("no write was acknowledged within " + settings.giveUpAfter().toSeconds()
                    + " s after killing the leader; the survivors did not elect a new one");
        }
        return (firstAckNanos.get() - killedAtNanos) / 1e6;
    }

    private void startAttempt(KvClient client, Semaphore slot, AtomicLong firstAckNanos) {
        if (!slot.tryAcquire()) {
            return; // this survivor already has the maximum of attempts outstanding
        }
        client.putAsync(nextKey("f"), value)
                .orTimeout(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((ignored, failure) -> {
                    if (failure == null) {
                        firstAckNanos.accumulateAndGet(System.nanoTime(), Math::min);
                    }
                    slot.release();
                });
    }

    /**
     * Connections open and code paths compiled before the clock runs. A write slower than an attempt's
     * timeout is tolerated here; a member through which no write succeeds at all stops the benchmark.
     */
    private void warmUp() {
        for (Member member : members) {
            KvClient client = system.clientFor(member);
            int acknowledged = 0;
            Exception lastFailure = null;
            for (int i = 0; i < WARMUP_WRITES_PER_MEMBER; i++) {
                try {
                    client.put(nextKey("w"), value);
                    client.putAsync(nextKey("w"), value).get(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    acknowledged++;
                } catch (Exception e) {
                    lastFailure = e;
                }
            }
            if (acknowledged == 0) {
                throw new IllegalStateException("no warm-up write through " + member.name() + " was acknowledged within "
                        + settings.attemptTimeout().toMillis() + " ms; last failure: " + lastFailure);
            }
        }
    }

    private String leaderOrUnknown(List<Member> survivors) {
        try {
            return control.leaderName(survivors);
        } catch (Exception e) {
            return "?";
        }
    }

    private long pidOf(String memberName) throws IOException {
        Path pidFile = pidDirectory.resolve(memberName + ".pid");
        if (!Files.isRegularFile(pidFile)) {
            throw new IllegalStateException("no pid file " + pidFile + " for the leader " + memberName
                    + "; the cluster script writes one per member when it starts it");
        }
        return Long.parseLong(Files.readString(pidFile).trim());
    }

    private void restart(String memberName) throws IOException, InterruptedException {
        String command = restartCommand.replace("{name}", memberName);
        Process process = new ProcessBuilder("bash", "-c", command).inheritIO().start();
        int exitCode = process.waitFor();
        if (exitCode != 0) {
            throw new IllegalStateException("restarting " + memberName + " with '" + command + "' exited with " + exitCode);
        }
    }

    private String nextKey(String prefix) {
        return String.format("%s%07d", prefix, keyCounter.getAndIncrement() % 10_000_000L);
    }
}
