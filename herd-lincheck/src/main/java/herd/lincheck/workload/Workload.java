package herd.lincheck.workload;

import herd.lincheck.Action;
import herd.lincheck.History;
import herd.lincheck.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * Runs concurrent clients doing random puts, gets, compare-and-sets and deletes on a few keys for a
 * while, and records what they saw as a {@link History} for the linearizability checker.
 *
 * <p>Each client writes values no one wrote before ({@code <runId>c<client>-<n>}), which is what lets
 * the checker treat "CAS on the revision I read" as "CAS on the value I read" (see
 * {@link Action.Cas}). A CAS is always a read of the key followed by a CAS on the revision that read
 * returned; both are recorded. The keys must not exist when the run starts (the checker assumes
 * every key starts absent): use fresh key names for every run, e.g. with a run id in them.
 */
public final class Workload {

    /** Relative weights of the four operations. */
    public record Mix(int putWeight, int getWeight, int casWeight, int deleteWeight) {
        public static final Mix DEFAULT = new Mix(30, 40, 25, 5);

        public Mix {
            if (putWeight < 0 || getWeight < 0 || casWeight < 0 || deleteWeight < 0
                    || putWeight + getWeight + casWeight + deleteWeight == 0) {
                throw new IllegalArgumentException("operation mix " + List.of(putWeight, getWeight, casWeight,
                    deleteWeight) + " is invalid: give non-negative weights for put, get, cas and delete, not all 0");
            }
        }

        int total() {
            return putWeight + getWeight + casWeight + deleteWeight;
        }
    }

    /**
     * @param clients how many client threads run at once (each with its own {@link KvClient})
     * @param keys the keys they use; they must not exist yet
     * @param duration how long clients keep starting operations
     * @param maxOperationsPerClient a client stops after this many operations even if time is left
     * @param seed makes the choice of keys and operations repeatable (not their timing)
     * @param runId prefixed to every value written, so values stay unique across runs on one store
     * @param stopGrace how long to wait, after {@code duration}, for calls still running; then they
     *     are interrupted and recorded as indeterminate
     */
    public record Config(int clients, List<String> keys, Duration duration, long maxOperationsPerClient, Mix mix,
                         long seed, String runId, Duration stopGrace) {
        public Config {
            if (clients < 1) {
                throw new IllegalArgumentException("clients is " + clients + ": run at least 1 client");
            }
            Objects.requireNonNull(keys, "keys");
            keys = List.copyOf(keys);
            if (keys.isEmpty()) {
                throw new IllegalArgumentException("no keys given: give at least one key (a few keys make the most contention)");
            }
            requirePositive(duration, "duration");
            requirePositive(stopGrace, "stopGrace");
            if (maxOperationsPerClient < 1) {
                throw new IllegalArgumentException("maxOperationsPerClient is " + maxOperationsPerClient
                    + ": give at least 1 (Long.MAX_VALUE for 'until the duration ends')");
            }
            Objects.requireNonNull(mix, "mix");
            Objects.requireNonNull(runId, "runId");
        }

        /** Default mix, no operation limit, a 10 s grace for slow calls at the end. */
        public static Config of(int clients, List<String> keys, Duration duration, long seed, String runId) {
            return new Config(clients, keys, duration, Long.MAX_VALUE, Mix.DEFAULT, seed, runId, Duration.ofSeconds(10));
        }

        public Config withMaxOperationsPerClient(long maxOperations) {
            return new Config(clients, keys, duration, maxOperations, mix, seed, runId, stopGrace);
        }

        public Config withMix(Mix newMix) {
            return new Config(clients, keys, duration, maxOperationsPerClient, newMix, seed, runId, stopGrace);
        }

        public Config withStopGrace(Duration grace) {
            return new Config(clients, keys, duration, maxOperationsPerClient, mix, seed, runId, grace);
        }

        private static void requirePositive(Duration duration, String name) {
            Objects.requireNonNull(duration, name);
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException(name + " is " + duration + ": give a positive duration");
            }
        }
    }

    /**
     * @param history every operation, ready for the checker
     * @param clientFailures errors (not exceptions from calls, which are recorded) that ended a
     *     client thread early, e.g. the client factory failing; empty in a clean run
     * @param stuckClients client threads still running after the grace period and an interrupt
     */
    public record Result(History history, List<Throwable> clientFailures, int stuckClients) {
        public long count(Class<? extends Outcome> outcome) {
            return history.operations().stream().filter(op -> outcome.isInstance(op.outcome())).count();
        }

        /** E.g. "1234 operations: 1100 answered, 4 rejected, 130 indeterminate". */
        public String summary() {
            long rejected = count(Outcome.Rejected.class);
            long indeterminate = count(Outcome.Indeterminate.class);
            return history.size() + " operations: " + (history.size() - rejected - indeterminate) + " answered, "
                + rejected + " rejected, " + indeterminate + " indeterminate"
                + (clientFailures.isEmpty() ? "" : ", " + clientFailures.size() + " clients failed")
                + (stuckClients == 0 ? "" : ", " + stuckClients + " clients stuck");
        }
    }

    private static final Duration AFTER_INTERRUPT_WAIT = Duration.ofSeconds(2);

    private Workload() {}

    /** Runs the workload with {@code System.nanoTime} as the clock. */
    public static Result run(Config config, IntFunction<KvClient> clientForIndex) throws InterruptedException {
        return run(config, clientForIndex, System::nanoTime);
    }

    /**
     * @param clientForIndex makes the client for thread 0, 1, ...; called on that thread
     * @param nanoClock a monotonic clock in nanoseconds for timing operations and the run
     */
    public static Result run(Config config, IntFunction<KvClient> clientForIndex, LongSupplier nanoClock)
            throws InterruptedException {
        HistoryRecorder recorder = new HistoryRecorder(nanoClock);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        long deadlineNanos = nanoClock.getAsLong() + config.duration().toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int client = 0; client < config.clients(); client++) {
            ClientLoop loop = new ClientLoop(client, config, recorder, nanoClock, deadlineNanos);
            int index = client;
            Thread thread = new Thread(() -> {
                try {
                    loop.run(clientForIndex.apply(index));
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "workload-client-" + client);
            thread.setDaemon(true); // a client stuck in a call must not keep the JVM alive
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        int stuck = awaitOrInterrupt(threads, config.duration().plus(config.stopGrace()));
        return new Result(recorder.history(), List.copyOf(failures), stuck);
    }

    /** Waits for the threads until the time is up, then interrupts; returns how many are still alive. */
    private static int awaitOrInterrupt(List<Thread> threads, Duration timeout) throws InterruptedException {
        long waitUntil = System.nanoTime() + timeout.toNanos();
        for (Thread thread : threads) {
            long leftMillis = Math.max(1, (waitUntil - System.nanoTime()) / 1_000_000);
            thread.join(leftMillis);
        }
        threads.stream().filter(Thread::isAlive).forEach(Thread::interrupt);
        for (Thread thread : threads) {
            thread.join(AFTER_INTERRUPT_WAIT.toMillis());
        }
        return (int) threads.stream().filter(Thread::isAlive).count();
    }

    /** One client: picks operations at random and records them until time or its quota runs out. */
    private static final class ClientLoop {
        private final int client;
        private final Config config;
        private final HistoryRecorder recorder;
        private final LongSupplier nanoClock;
        private final long deadlineNanos;
        private final SplittableRandom random;
        private long valuesWritten;

        ClientLoop(int client, Config config, HistoryRecorder recorder, LongSupplier nanoClock, long deadlineNanos) {
            this.client = client;
            this.config = config;
            this.recorder = recorder;
            this.nanoClock = nanoClock;
            this.deadlineNanos = deadlineNanos;
            this.random = new SplittableRandom(config.seed() * 1_000_003L + client);
        }

        void run(KvClient kv) {
            for (long done = 0; done < config.maxOperationsPerClient(); done++) {
                if (Thread.currentThread().isInterrupted() || nanoClock.getAsLong() - deadlineNanos >= 0) {
                    return;
                }
                String key = config.keys().get(random.nextInt(config.keys().size()));
                int pick = random.nextInt(config.mix().total());
                Mix mix = config.mix();
                if ((pick -= mix.putWeight()) < 0) {
                    put(kv, key);
                } else if ((pick -= mix.getWeight()) < 0) {
                    get(kv, key);
                } else if ((pick -= mix.casWeight()) < 0) {
                    readThenCas(kv, key);
                } else {
                    delete(kv, key);
                }
            }
        }

        private void put(KvClient kv, String key) {
            String value = newValue();
            recorder.record(client, key, Action.put(value), () -> kv.put(key, value), written -> Outcome.ok());
        }

        private Optional<KvClient.Read> get(KvClient kv, String key) {
            return recorder.record(client, key, Action.get(), () -> kv.get(key), read -> new Outcome.Read(read.value()));
        }

        /** Reads the key, then CASes on the revision read: recorded as a CAS on the value read. */
        private void readThenCas(KvClient kv, String key) {
            Optional<KvClient.Read> read = get(kv, key);
            if (read.isEmpty()) {
                return;
            }
            String value = newValue();
            Action cas = new Action.Cas(read.get().value(), value);
            recorder.record(client, key, cas, () -> kv.cas(key, read.get().modRevision(), value),
                result -> result.succeeded() ? Outcome.ok() : Outcome.mismatch());
        }

        private void delete(KvClient kv, String key) {
            recorder.record(client, key, Action.delete(), () -> kv.delete(key), written -> Outcome.ok());
        }

        private String newValue() {
            return config.runId() + "c" + client + "-" + valuesWritten++;
        }
    }
}
