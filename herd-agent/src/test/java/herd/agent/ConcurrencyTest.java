package herd.agent;

import static herd.agent.TestSupport.WAIT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Different resources run in parallel, up to the executor's maximum. */
class ConcurrencyTest {

    @TempDir
    Path temp;

    private List<OperationResult> meet(int maxConcurrentOperations, long timeoutMillis) throws Exception {
        Path ocfRoot = TestSupport.ocfRootWith(temp.resolve("ocf"), "rendezvous");
        ExecutorSettings settings = new ExecutorSettings("node1", temp.resolve("run"), ocfRoot, null, List.of(), maxConcurrentOperations);
        AgentId agent = AgentId.parse("ocf:herdtest:rendezvous");
        Path a = temp.resolve("a");
        Path b = temp.resolve("b");
        try (Executor executor = new Executor(settings)) {
            CompletableFuture<OperationResult> first = executor.execute(new OperationRequest("first", agent, "start", 0, timeoutMillis,
                Map.of("mine", a.toString(), "other", b.toString())));
            CompletableFuture<OperationResult> second = executor.execute(new OperationRequest("second", agent, "start", 0, timeoutMillis,
                Map.of("mine", b.toString(), "other", a.toString())));
            return List.of(first.get(WAIT_MILLIS, TimeUnit.MILLISECONDS), second.get(WAIT_MILLIS, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void twoResourcesRunAtTheSameTime() throws Exception {
        assertThat(meet(2, 20_000)).extracting(OperationResult::status).containsOnly(ExecStatus.DONE);
    }

    @Test
    void theMaximumHoldsAcrossResources() throws Exception {
        // With one operation at a time, whichever runs first waits in vain and times out; the other then finds its file.
        assertThat(meet(1, 1_500)).extracting(OperationResult::status)
            .containsExactlyInAnyOrder(ExecStatus.TIMEOUT, ExecStatus.DONE);
    }
}
