package herd.bench.controlplane;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Runs one workload as a closed loop: each client thread issues its next operation as soon as the
 * previous one was acknowledged. Client threads are spread round-robin over the members, so writes
 * that reach a follower pay its forwarding to the leader, as they do for real clients.
 * Only operations that complete inside the measurement window (after the warm-up) count.
 */
final class WorkloadRunner {

    /** A failing operation is retried after this pause, so an outage does not become a busy loop. */
    private static final long PAUSE_AFTER_FAILURE_MILLIS = 10;
    /** Latencies above this are recorded as this (an hour: anything longer has failed anyway). */
    private static final long HIGHEST_TRACKED_LATENCY_NANOS = TimeUnit.HOURS.toNanos(1);

    private final KvSystem system;
    private final List<Member> members;
    private final Duration warmup;
    private final Duration measurement;
    private final byte[] value;
    private final int readKeyCount;
    private final AtomicLong nextPutKey;

    WorkloadRunner(KvSystem system, List<Member> members, Duration warmup, Duration measurement,
                   byte[] value, int readKeyCount, AtomicLong nextPutKey) {
        this.system = system;
        this.members = members;
        this.warmup = warmup;
        this.measurement = measurement;
        this.value = value;
        this.readKeyCount = readKeyCount;
        this.nextPutKey = nextPutKey;
    }

    /** Writes the keys that GET workloads read, so every read finds a 256-byte value. */
    void preloadReadKeys() throws Exception {
        KvClient client = system.clientFor(members.get(0));
        for (int i = 0; i < readKeyCount; i++) {
            client.put(Keys.readKey(i), value);
        }
    }

    /**
     * Unrecorded puts from 16 clients, so a server that compiles its hot paths as it runs (a JVM) starts
     * the first measured workload as warm as one that does not (Go); both systems get the same.
     */
    void warmUpServers(Duration duration) throws InterruptedException {
        run(new Workload(Workload.Kind.PUT, 16), duration, Duration.ZERO);
    }

    WorkloadResult run(Workload workload) throws InterruptedException {
        return run(workload, warmup, measurement);
    }

    private WorkloadResult run(Workload workload, Duration warmup, Duration measurement) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        Window window = new Window();
        List<ClientLoop> loops = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < workload.clients(); i++) {
            ClientLoop loop = new ClientLoop(workload.kind(), system.clientFor(members.get(i % members.size())),
                    i, go, window);
            loops.add(loop);
            threads.add(Thread.ofPlatform().name("client-" + i).start(loop));
        }
        window.startNanos = System.nanoTime() + warmup.toNanos();
        window.endNanos = window.startNanos + measurement.toNanos();
        go.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        return summarize(workload, loops, measurement);
    }

    private WorkloadResult summarize(Workload workload, List<ClientLoop> loops, Duration measurement) {
        Histogram all = new Histogram(HIGHEST_TRACKED_LATENCY_NANOS, 3);
        long failed = 0;
        String firstFailure = null;
        for (ClientLoop loop : loops) {
            all.add(loop.latencyNanos);
            failed += loop.failedOps;
            if (firstFailure == null) {
                firstFailure = loop.firstFailure;
            }
        }
        long ops = all.getTotalCount();
        double seconds = measurement.toNanos() / 1e9;
        return new WorkloadResult(workload, seconds == 0 ? 0 : ops / seconds,
                ops == 0 ? Double.NaN : all.getValueAtPercentile(50) / 1e6,
                ops == 0 ? Double.NaN : all.getValueAtPercentile(99) / 1e6,
                ops, failed, firstFailure);
    }

    /** Written by the starting thread before the go signal; read by client threads after it. */
    private static final class Window {
        long startNanos;
        long endNanos;
    }

    private final class ClientLoop implements Runnable {
        final Histogram latencyNanos = new Histogram(HIGHEST_TRACKED_LATENCY_NANOS, 3);
        long failedOps;
        String firstFailure;

        private final Workload.Kind kind;
        private final KvClient client;
        private final CountDownLatch go;
        private final Window window;
        private int nextReadIndex;

        ClientLoop(Workload.Kind kind, KvClient client, int clientIndex, CountDownLatch go, Window window) {
            this.kind = kind;
            this.client = client;
            this.go = go;
            this.window = window;
            this.nextReadIndex = clientIndex % readKeyCount; // clients start on different keys
        }

        @Override
        public void run() {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            while (true) {
                long startedAt = System.nanoTime();
                if (startedAt >= window.endNanos) {
                    return;
                }
                String failure = runOne();
                long finishedAt = System.nanoTime();
                boolean inWindow = finishedAt >= window.startNanos && finishedAt < window.endNanos;
                if (failure == null && inWindow) {
                    latencyNanos.recordValue(Math.min(finishedAt - startedAt, HIGHEST_TRACKED_LATENCY_NANOS));
                } else if (failure != null) {
                    failedOps++;
                    firstFailure = firstFailure == null ? failure : firstFailure;
                    pauseAfterFailure();
                }
            }
        }

        /** Runs one operation; null when it succeeded, otherwise what went wrong. */
        private String runOne() {
            try {
                if (kind == Workload.Kind.PUT) {
                    client.put(Keys.sequential(nextPutKey), value);
                    return null;
                }
                String key = Keys.readKey(nextReadIndex);
                nextReadIndex = (nextReadIndex + 1) % readKeyCount;
                byte[] read = client.get(key);
                return Arrays.equals(read, value) ? null : "GET " + key + " returned "
                        + (read == null ? "no value" : read.length + " bytes that differ from what was written");
            } catch (Exception e) {
                return e.toString();
            }
        }

        private void pauseAfterFailure() {
            try {
                Thread.sleep(PAUSE_AFTER_FAILURE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
