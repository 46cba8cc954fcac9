package herd.agent;

import static herd.agent.TestSupport.WAIT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real init script in a temporary LSB directory, through the executor. */
class LsbAgentTest {

    @TempDir
    Path temp;

    private static OperationResult run(Executor executor, String action) throws Exception {
        return executor.execute(new OperationRequest("svc", AgentId.parse("lsb:lsb-service"), action, 0, 10_000, Map.of()))
            .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Test
    void startStatusStopMapToOcfCodes() throws Exception {
        Path initDirectory = temp.resolve("init.d");
        TestSupport.installAgent("lsb-service", initDirectory.resolve("lsb-service"));
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")).withLsbDirectory(initDirectory))) {
            assertThat(run(executor, "monitor").rc()).as("status 3 before start").isEqualTo(7);
            assertThat(run(executor, "stop").rc()).as("stopping a stopped service").isZero();
            assertThat(run(executor, "start").rc()).isZero();
            assertThat(run(executor, "monitor").rc()).isZero();
            assertThat(run(executor, "status").rc()).isZero();

            Files.writeString(initDirectory.resolve("lsb-service.state"), "broken");
            OperationResult unknown = run(executor, "monitor");
            assertThat(unknown.rc()).as("status 4").isEqualTo(1);
            assertThat(unknown.status()).isEqualTo(ExecStatus.DONE);

            assertThat(run(executor, "stop").rc()).isZero();
            assertThat(run(executor, "monitor").rc()).isEqualTo(7);
            OperationResult promote = run(executor, "promote");
            assertThat(promote.status()).isEqualTo(ExecStatus.NOT_SUPPORTED);
            assertThat(promote.rc()).isEqualTo(3);
            assertThat(executor.metaData(AgentId.parse("lsb:lsb-service"))).contains("<resource-agent name=\"lsb-service\"");
        }
    }
}
