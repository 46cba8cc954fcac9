package herd.agent;

import static org.assertj.core.api.Assertions.assertThat;

import herd.agent.exec.ProcessLauncher;
import herd.agent.fence.FenceAction;
import herd.agent.fence.FenceAgentRunner;
import herd.agent.fence.FenceDevice;
import herd.agent.fence.FenceResult;
import herd.agent.fence.Fencer;
import herd.agent.fence.FencingOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fence-agents' fence_dummy through the stdin protocol, herd-script devices, levels and timeouts. */
class FenceAgentTest {

    private static final long TIMEOUT_MILLIS = 20_000;

    @TempDir
    Path temp;

    private ProcessLauncher launcher;
    private FenceAgentRunner runner;

    @BeforeEach
    void start() {
        launcher = new ProcessLauncher(List.of(), temp.resolve("output"));
        runner = new FenceAgentRunner(launcher);
    }

    @AfterEach
    void stop() {
        launcher.close();
    }

    private FenceDevice dummy(String id, Path statusFile) {
        return new FenceDevice(id, AgentId.parse("stonith:fence_dummy"), Map.of("type", "file", "status_file", statusFile.toString()));
    }

    private static FenceDevice script(String id, String command) {
        return new FenceDevice(id, AgentId.parse("stonith:herd-script"), Map.of("command", command));
    }

    @Test
    void fenceDummyPowersOffThroughStdin() throws Exception {
        Path statusFile = temp.resolve("power");
        Files.writeString(statusFile, "on");
        FenceResult off = runner.fence(dummy("pdu", statusFile), "node2", FenceAction.OFF, TIMEOUT_MILLIS);
        assertThat(off.success()).as(off.toString()).isTrue();
        assertThat(Files.readString(statusFile)).isEqualTo("off");

        FenceResult status = runner.fence(dummy("pdu", statusFile), "node2", FenceAction.STATUS, TIMEOUT_MILLIS);
        assertThat(status.status()).isEqualTo(ExecStatus.DONE);
        assertThat(status.exitCode()).as("status of a node that is off").isEqualTo(2);

        assertThat(runner.fence(dummy("pdu", statusFile), "node2", FenceAction.ON, TIMEOUT_MILLIS).success()).isTrue();
        assertThat(Files.readString(statusFile)).isEqualTo("on");
        assertThat(runner.fence(dummy("pdu", statusFile), "node2", FenceAction.REBOOT, TIMEOUT_MILLIS).success()).isTrue();
    }

    @Test
    void fenceDummyFailureIsReported() throws Exception {
        Path statusFile = temp.resolve("power");
        Files.writeString(statusFile, "melted");
        FenceResult off = runner.fence(dummy("pdu", statusFile), "node2", FenceAction.OFF, TIMEOUT_MILLIS);
        assertThat(off.success()).isFalse();
        assertThat(off.status()).isEqualTo(ExecStatus.DONE);
        assertThat(off.exitCode()).isNotZero();
        assertThat(off.reason()).contains("Unable to obtain correct plug status");
    }

    @Test
    void aFenceAgentThatHangsIsKilledAtItsTimeout() {
        Path statusFile = temp.resolve("power");
        FenceDevice slow = new FenceDevice("slow", AgentId.parse("stonith:fence_dummy"),
            Map.of("status_file", statusFile.toString(), "delay", "60"));
        FenceResult result = runner.fence(slow, "node2", FenceAction.OFF, 1_000);
        assertThat(result.status()).isEqualTo(ExecStatus.TIMEOUT);
        assertThat(result.success()).isFalse();
        assertThat(result.reason()).isEqualTo("timed out after 1000 ms");
    }

    @Test
    void herdScriptGetsActionAndTargetInItsEnvironment() throws Exception {
        Path record = temp.resolve("fenced");
        FenceResult result = runner.fence(script("lab", "echo \"$HERD_FENCE_ACTION $HERD_FENCE_TARGET\" > " + record),
            "node3", FenceAction.REBOOT, TIMEOUT_MILLIS);
        assertThat(result.success()).isTrue();
        assertThat(Files.readString(record)).isEqualTo("reboot node3\n");

        FenceResult failed = runner.fence(script("lab", "echo 'no power switch here' >&2; exit 3"), "node3", FenceAction.OFF, TIMEOUT_MILLIS);
        assertThat(failed.success()).isFalse();
        assertThat(failed.exitCode()).isEqualTo(3);
        assertThat(failed.reason()).isEqualTo("no power switch here");
    }

    @Test
    void levelsAreTriedInOrderUntilOneSucceedsCompletely() throws Exception {
        Path statusFile = temp.resolve("power");
        Files.writeString(statusFile, "on");
        Path secondRan = temp.resolve("second-ran");
        List<List<FenceDevice>> levels = List.of(
            List.of(script("ipmi", "exit 1"), script("never", "touch " + secondRan)),
            List.of(dummy("pdu-a", statusFile), script("pdu-b", "exit 0")));

        FencingOutcome outcome = new Fencer(runner).fence(levels, "node2", FenceAction.OFF, TIMEOUT_MILLIS);

        assertThat(outcome.success()).isTrue();
        assertThat(outcome.succeededLevel()).isEqualTo(2);
        assertThat(outcome.attempts()).extracting(FenceResult::deviceId).containsExactly("ipmi", "pdu-a", "pdu-b");
        assertThat(Files.exists(secondRan)).as("a level stops at its first failure").isFalse();
        assertThat(Files.readString(statusFile)).isEqualTo("off");
    }

    @Test
    void aRebootThroughSeveralDevicesTurnsAllOffBeforeAnyOn() throws Exception {
        Path journal = temp.resolve("journal");
        List<List<FenceDevice>> levels = List.of(List.of(
            script("psu-a", "echo \"psu-a $HERD_FENCE_ACTION\" >> " + journal),
            script("psu-b", "echo \"psu-b $HERD_FENCE_ACTION\" >> " + journal)));

        FencingOutcome outcome = new Fencer(runner).fence(levels, "node2", FenceAction.REBOOT, TIMEOUT_MILLIS);

        assertThat(outcome.success()).isTrue();
        assertThat(Files.readAllLines(journal)).containsExactly("psu-a off", "psu-b off", "psu-a on", "psu-b on");
    }

    @Test
    void whenEveryLevelFailsTheOutcomeListsEveryFailure() {
        List<List<FenceDevice>> levels = List.of(List.of(script("a", "echo broken a >&2; exit 1")),
            List.of(script("b", "echo broken b >&2; exit 1")));
        FencingOutcome outcome = new Fencer(runner).fence(levels, "node2", FenceAction.REBOOT, TIMEOUT_MILLIS);
        assertThat(outcome.success()).isFalse();
        assertThat(outcome.succeededLevel()).isZero();
        assertThat(outcome.failures()).contains("a reboot node2", "broken a", "b reboot node2", "broken b");
    }

    @Test
    void aStonithResourceIsMonitoredWithTheMonitorAction(@TempDir Path run) throws Exception {
        Path statusFile = temp.resolve("power");
        Files.writeString(statusFile, "on");
        AgentId fenceDummy = AgentId.parse("stonith:fence_dummy");
        try (Executor executor = new Executor(TestSupport.settings("node1", run))) {
            Map<String, String> params = Map.of("status_file", statusFile.toString());
            OperationRequest monitor = new OperationRequest("fence-pdu", fenceDummy, "monitor", 0, TIMEOUT_MILLIS, params);
            assertThat(executor.execute(monitor).get(30, TimeUnit.SECONDS).rc()).as("probe before start").isEqualTo(7);
            assertThat(executor.execute(monitor.withAction("start", 0)).get(30, TimeUnit.SECONDS).rc()).isZero();
            assertThat(executor.execute(monitor).get(30, TimeUnit.SECONDS).rc()).isZero();
            Files.writeString(statusFile, "melted");
            assertThat(executor.execute(monitor).get(30, TimeUnit.SECONDS).rc()).as("device broken").isEqualTo(1);
            assertThat(executor.execute(monitor.withAction("stop", 0)).get(30, TimeUnit.SECONDS).rc()).isZero();
        }
    }
}
