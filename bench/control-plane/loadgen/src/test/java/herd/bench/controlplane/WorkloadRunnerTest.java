package herd.bench.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WorkloadRunnerTest {

    private FakeHerdApi api;
    private HerdSystem herd;
    private WorkloadRunner runner;

    @BeforeEach
    void start() throws Exception {
        api = new FakeHerdApi("s1");
        herd = new HerdSystem(FakeHerdApi.TOKEN, Duration.ofSeconds(5));
        runner = new WorkloadRunner(herd, List.of(api.member("s1"), api.member("s2")), Duration.ofMillis(200),
                Duration.ofMillis(500), Keys.randomValue(256, 1), 10, new AtomicLong());
    }

    @AfterEach
    void stop() {
        herd.close();
        api.close();
    }

    @Test
    void putsWriteOneNewKeyPerAcknowledgedOperation() throws Exception {
        WorkloadResult result = runner.run(new Workload(Workload.Kind.PUT, 2));

        assertThat(result.failedOps()).isZero();
        assertThat(result.measuredOps()).isPositive();
        // the warm-up and the requests finishing after the window wrote keys too, but never fewer
        assertThat(api.keyCount()).isGreaterThanOrEqualTo((int) result.measuredOps());
        assertThat(result.opsPerSecond()).isEqualTo(result.measuredOps() / 0.5);
        assertThat(result.p50Millis()).isPositive().isLessThanOrEqualTo(result.p99Millis());
    }

    @Test
    void readsOfThePreloadedKeysSucceed() throws Exception {
        runner.preloadReadKeys();

        WorkloadResult result = runner.run(new Workload(Workload.Kind.GET, 3));

        assertThat(result.failedOps()).isZero();
        assertThat(result.measuredOps()).isPositive();
    }

    @Test
    void readsOfKeysNeverWrittenCountAsFailures() throws Exception {
        WorkloadResult result = runner.run(new Workload(Workload.Kind.GET, 1));

        assertThat(result.measuredOps()).isZero();
        assertThat(result.failedOps()).isPositive();
        assertThat(result.firstFailure()).contains("returned no value");
    }

    @Test
    void refusedWritesAreCountedAsFailuresNotAsThroughput() throws Exception {
        api.answerEveryRequestWith(503);

        WorkloadResult result = runner.run(new Workload(Workload.Kind.PUT, 2));

        assertThat(result.measuredOps()).isZero();
        assertThat(result.failedOps()).isPositive();
        assertThat(result.firstFailure()).contains("HTTP 503");
    }
}
