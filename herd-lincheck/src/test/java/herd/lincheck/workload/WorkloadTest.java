package herd.lincheck.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.lincheck.Action;
import herd.lincheck.CheckResult;
import herd.lincheck.History;
import herd.lincheck.LinearizabilityChecker;
import herd.lincheck.Operation;
import herd.lincheck.Outcome;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadTest {

    private static final List<String> KEYS = List.of("a", "b", "c");
    private static final long OPERATIONS_PER_CLIENT = 400;

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private static Workload.Config config(int clients) {
        return Workload.Config.of(clients, KEYS, Duration.ofSeconds(20), 7, "run1-")
            .withMaxOperationsPerClient(OPERATIONS_PER_CLIENT);
    }

    @Test
    void aCorrectStoreGivesALinearizableHistoryWithEveryKindOfOperation() throws InterruptedException {
        InMemoryKvStore store = new InMemoryKvStore();

        Workload.Result result = Workload.run(config(4), client -> store.client());

        History history = result.history();
        System.out.println("workload on a correct store: " + result.summary());
        assertThat(result.clientFailures()).isEmpty();
        assertThat(result.stuckClients()).isZero();
        assertThat(history.size()).isGreaterThanOrEqualTo((int) (4 * OPERATIONS_PER_CLIENT));
        assertThat(history.operations()).anyMatch(op -> op.action() instanceof Action.Put)
            .anyMatch(op -> op.action() instanceof Action.Delete)
            .anyMatch(op -> op.outcome() instanceof Outcome.Read read && read.value().isPresent())
            .anyMatch(op -> op.action() instanceof Action.Cas && op.outcome() instanceof Outcome.Ok)
            .anyMatch(op -> op.outcome() instanceof Outcome.Mismatch);
        CheckResult check = checker.check(history);
        assertThat(check.isLinearizable()).as(check.report()).isTrue();
    }

    @Test
    void everyValueWrittenIsNew() throws InterruptedException {
        History history = Workload.run(config(3), client -> new InMemoryKvStore().client()).history();

        List<String> written = history.operations().stream().map(Operation::writtenValue)
            .flatMap(java.util.Optional::stream).flatMap(java.util.Optional::stream).toList();
        assertThat(written).doesNotHaveDuplicates().allMatch(value -> value.startsWith("run1-c"));
    }

    @Test
    void timeoutsAndRejectionsAreRecordedAndStillLinearizable() throws InterruptedException {
        InMemoryKvStore store = new InMemoryKvStore();

        Workload.Result result = Workload.run(config(4), client -> new Flaky(store.client(), client));

        System.out.println("workload with a flaky client: " + result.summary());
        assertThat(result.count(Outcome.Indeterminate.class)).isPositive();
        assertThat(result.count(Outcome.Rejected.class)).isPositive();
        CheckResult check = checker.check(result.history());
        assertThat(check.isLinearizable()).as(check.report()).isTrue();
    }

    @Test
    void staleReadsFromALaggingReplicaAreCaught() throws InterruptedException {
        InMemoryKvStore store = new InMemoryKvStore.LaggingReplica();

        CheckResult check = checker.check(Workload.run(config(4), client -> store.client()).history());

        System.out.println("lagging replica: " + check.report());
        assertThat(check).isInstanceOf(CheckResult.Violation.class);
    }

    @Test
    void acknowledgedButLostWritesAreCaught() throws InterruptedException {
        InMemoryKvStore store = new InMemoryKvStore.LosesWrites();

        CheckResult check = checker.check(Workload.run(config(4), client -> store.client()).history());

        System.out.println("lost writes: " + check.report());
        assertThat(check).isInstanceOf(CheckResult.Violation.class);
    }

    @Test
    void aCallStillRunningAtTheEndIsInterruptedAndRecordedAsIndeterminate() throws InterruptedException {
        CountDownLatch never = new CountDownLatch(1);
        KvClient hangsOnPut = new InMemoryKvStore().client();
        KvClient client = new Delegating(hangsOnPut) {
            @Override
            public Written put(String key, String value) throws InterruptedException {
                never.await();
                throw new AssertionError("unreachable");
            }
        };
        Workload.Config config = Workload.Config.of(1, List.of("k"), Duration.ofMillis(100), 1, "")
            .withMix(new Workload.Mix(1, 0, 0, 0)).withStopGrace(Duration.ofMillis(100));

        Workload.Result result = Workload.run(config, index -> client);

        assertThat(result.stuckClients()).isZero();
        assertThat(result.history().operations()).singleElement().satisfies(op -> {
            assertThat(op.action()).isEqualTo(Action.put("c0-0"));
            assertThat(op.outcome()).isEqualTo(Outcome.indeterminate("interrupted while waiting for the answer"));
        });
    }

    @Test
    void aClientThatFailsToStartIsReported() throws InterruptedException {
        Workload.Result result = Workload.run(config(2), index -> {
            if (index == 1) {
                throw new IllegalStateException("cannot connect");
            }
            return new InMemoryKvStore().client();
        });

        assertThat(result.clientFailures()).singleElement()
            .satisfies(failure -> assertThat(failure).hasMessage("cannot connect"));
        assertThat(result.summary()).contains("1 clients failed");
    }

    @Test
    void rejectsBadConfiguration() {
        assertThatThrownBy(() -> Workload.Config.of(0, KEYS, Duration.ofSeconds(1), 1, ""))
            .hasMessageContaining("at least 1 client");
        assertThatThrownBy(() -> Workload.Config.of(1, List.of(), Duration.ofSeconds(1), 1, ""))
            .hasMessageContaining("no keys given");
        assertThatThrownBy(() -> Workload.Config.of(1, KEYS, Duration.ZERO, 1, ""))
            .hasMessageContaining("duration is PT0S");
        assertThatThrownBy(() -> new Workload.Mix(0, 0, 0, 0)).hasMessageContaining("not all 0");
        assertThatThrownBy(() -> new KvClient.Read(java.util.Optional.empty(), 3)).hasMessageContaining("modRevision 0");
    }

    @Test
    void aRecordedHistorySurvivesAFile(@TempDir Path directory) throws Exception {
        History history = Workload.run(config(2).withMaxOperationsPerClient(50),
            client -> new Flaky(new InMemoryKvStore().client(), client)).history();
        Path file = directory.resolve("history.txt");

        HistoryFiles.write(file, history);

        assertThat(HistoryFiles.read(file)).isEqualTo(history);
    }

    /** Passes calls through. */
    private static class Delegating implements KvClient {
        private final KvClient inner;

        Delegating(KvClient inner) {
            this.inner = inner;
        }

        @Override
        public Written put(String key, String value) throws Exception {
            return inner.put(key, value);
        }

        @Override
        public Read get(String key) throws Exception {
            return inner.get(key);
        }

        @Override
        public CasResult cas(String key, long expectedModRevision, String value) throws Exception {
            return inner.cas(key, expectedModRevision, value);
        }

        @Override
        public Written delete(String key) throws Exception {
            return inner.delete(key);
        }
    }

    /**
     * Around 5% of calls time out before reaching the store, 5% time out after it applied them, and
     * 3% are rejected without reaching it: all three must still check as linearizable.
     */
    private static final class Flaky implements KvClient {
        private final KvClient inner;
        private final SplittableRandom random;

        Flaky(KvClient inner, int client) {
            this.inner = inner;
            this.random = new SplittableRandom(client);
        }

        private <T> T call(java.util.concurrent.Callable<T> call) throws Exception {
            int die = random.nextInt(100);
            if (die < 5) {
                throw new TimeoutException("timed out before sending");
            }
            if (die < 8) {
                throw new RejectedException("HTTP 400 (simulated)");
            }
            T result = call.call();
            if (die < 13) {
                throw new TimeoutException("timed out waiting for the answer");
            }
            return result;
        }

        @Override
        public Written put(String key, String value) throws Exception {
            return call(() -> inner.put(key, value));
        }

        @Override
        public Read get(String key) throws Exception {
            return call(() -> inner.get(key));
        }

        @Override
        public CasResult cas(String key, long expectedModRevision, String value) throws Exception {
            return call(() -> inner.cas(key, expectedModRevision, value));
        }

        @Override
        public Written delete(String key) throws Exception {
            return call(() -> inner.delete(key));
        }
    }
}
