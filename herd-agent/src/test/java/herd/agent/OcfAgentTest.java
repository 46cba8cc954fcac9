package herd.agent;

import static herd.agent.TestSupport.WAIT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;

import herd.agent.exec.ProcessGroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OCF agents for real: resource-agents' Dummy, and test agents of our own under a temporary OCF root. */
class OcfAgentTest {

    private static final long TIMEOUT_MILLIS = 20_000;
    private static final AgentId DUMMY = AgentId.parse("ocf:heartbeat:Dummy");

    @TempDir
    Path temp;

    private static OperationResult run(Executor executor, String resource, AgentId agent, String action) throws Exception {
        return executor.execute(new OperationRequest(resource, agent, action, 0, TIMEOUT_MILLIS, Map.of()))
            .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Test
    void dummyLifecycleFollowsTheOcfCodes() throws Exception {
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("node1")))) {
            assertThat(run(executor, "d1", DUMMY, "monitor").rc()).as("probe before start").isEqualTo(7);
            OperationResult started = run(executor, "d1", DUMMY, "start");
            assertThat(started.rc()).isZero();
            assertThat(started.status()).isEqualTo(ExecStatus.DONE);
            assertThat(run(executor, "d1", DUMMY, "monitor").rc()).isZero();
            assertThat(run(executor, "d1", DUMMY, "stop").rc()).isZero();
            OperationResult probe = run(executor, "d1", DUMMY, "monitor");
            assertThat(probe.rc()).isEqualTo(7);
            assertThat(probe.status()).isEqualTo(ExecStatus.DONE);
            assertThat(Files.exists(temp.resolve("node1/rsctmp/Dummy-d1.state"))).isFalse();
        }
    }

    @Test
    void twoExecutorsWithTheirOwnRunDirectoriesKeepSeparateState() throws Exception {
        try (Executor node1 = new Executor(TestSupport.settings("node1", temp.resolve("node1")));
             Executor node2 = new Executor(TestSupport.settings("node2", temp.resolve("node2")))) {
            assertThat(run(node1, "shared", DUMMY, "start").rc()).isZero();
            assertThat(run(node1, "shared", DUMMY, "monitor").rc()).isZero();
            assertThat(run(node2, "shared", DUMMY, "monitor").rc()).as("the other node's probe").isEqualTo(7);
            assertThat(Files.exists(temp.resolve("node1/rsctmp/Dummy-shared.state"))).isTrue();
            assertThat(run(node1, "shared", DUMMY, "stop").rc()).isZero();
        }
    }

    @Test
    void operationsOnOneResourceRunInArrivalOrder() throws Exception {
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("node1")))) {
            var start = executor.execute(new OperationRequest("d2", DUMMY, "start", 0, TIMEOUT_MILLIS, Map.of()));
            var monitor = executor.execute(new OperationRequest("d2", DUMMY, "monitor", 0, TIMEOUT_MILLIS, Map.of()));
            var stop = executor.execute(new OperationRequest("d2", DUMMY, "stop", 0, TIMEOUT_MILLIS, Map.of()));
            var probe = executor.execute(new OperationRequest("d2", DUMMY, "monitor", 0, TIMEOUT_MILLIS, Map.of()));
            assertThat(List.of(start, monitor, stop, probe))
                .extracting(f -> f.get(WAIT_MILLIS, TimeUnit.MILLISECONDS).rc())
                .containsExactly(0, 0, 0, 7);
        }
    }

    @Test
    void timeoutKillsTheAgentsWholeProcessGroup() throws Exception {
        Path ocfRoot = TestSupport.ocfRootWith(temp.resolve("ocf"), "forking-sleeper");
        Path pids = temp.resolve("pids");
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")).withOcfRoot(ocfRoot))) {
            OperationResult result = executor.execute(new OperationRequest("sleepy", AgentId.parse("ocf:herdtest:forking-sleeper"),
                "start", 0, 1_500, Map.of("pids", pids.toString()))).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);

            assertThat(result.status()).isEqualTo(ExecStatus.TIMEOUT);
            assertThat(result.rc()).isEqualTo(1);
            assertThat(result.exitReason()).isEqualTo("timed out after 1500 ms");
            List<Long> recorded = Files.readAllLines(pids).stream().map(Long::parseLong).toList();
            assertThat(recorded).hasSize(3);
            assertThat(recorded).noneMatch(TestSupport::alive);
            long agentPid = recorded.get(2);
            assertThat(ProcessGroups.liveMembers(agentPid)).as("members of the agent's process group").isEmpty();
        }
    }

    @Test
    void exitReasonIsTheAgentsLastReasonLine() throws Exception {
        Path ocfRoot = TestSupport.ocfRootWith(temp.resolve("ocf"), "not-configured");
        try (Executor executor = new Executor(TestSupport.settings("node7", temp.resolve("run")).withOcfRoot(ocfRoot))) {
            OperationResult result = run(executor, "web", AgentId.parse("ocf:herdtest:not-configured"), "start");
            assertThat(result.rc()).isEqualTo(OcfExit.ERR_CONFIGURED.code());
            assertThat(result.status()).isEqualTo(ExecStatus.DONE);
            assertThat(result.exitReason()).isEqualTo("parameter 'config' is missing for web on node7");
        }
    }

    @Test
    void agentsGetTheOcfEnvironment() throws Exception {
        Path ocfRoot = TestSupport.ocfRootWith(temp.resolve("ocf"), "env-dump");
        Path out = temp.resolve("env.txt");
        try (Executor executor = new Executor(TestSupport.settings("node3", temp.resolve("run")).withOcfRoot(ocfRoot))) {
            OperationResult result = executor.execute(new OperationRequest("clone:1", AgentId.parse("ocf:herdtest:env-dump"),
                "notify", 10_000, 5_000, Map.of("out", out.toString(), "CRM_meta_notify_type", "pre")))
                .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(result.succeeded()).isTrue();
        }
        assertThat(Files.readAllLines(out)).contains(
            "OCF_ROOT=" + ocfRoot,
            "OCF_RA_VERSION_MAJOR=1",
            "OCF_RA_VERSION_MINOR=1",
            "OCF_RESOURCE_INSTANCE=clone:1",
            "OCF_RESOURCE_TYPE=env-dump",
            "OCF_RESOURCE_PROVIDER=herdtest",
            "OCF_RESKEY_out=" + out,
            "OCF_RESKEY_CRM_meta_notify_type=pre",
            "OCF_RESKEY_CRM_meta_timeout=5000",
            "OCF_RESKEY_CRM_meta_interval=10000",
            "OCF_RESKEY_CRM_meta_on_node=node3",
            "HA_RSCTMP=" + temp.resolve("run/rsctmp"),
            "HA_VARRUN=" + temp.resolve("run/varrun"));
    }

    @Test
    void aMissingAgentIsNotInstalled() throws Exception {
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")))) {
            OperationResult result = run(executor, "ghost", AgentId.parse("ocf:nobody:Nothing"), "start");
            assertThat(result.rc()).isEqualTo(5);
            assertThat(result.status()).isEqualTo(ExecStatus.NOT_INSTALLED);
            assertThat(result.exitReason()).isEqualTo("agent /usr/lib/ocf/resource.d/nobody/Nothing not found");
            assertThat(run(executor, "ghost", AgentId.parse("lsb:no-such-service"), "start").status()).isEqualTo(ExecStatus.NOT_INSTALLED);
            assertThat(run(executor, "ghost", AgentId.parse("stonith:fence_nothing"), "start").status()).isEqualTo(ExecStatus.NOT_INSTALLED);
        }
    }

    @Test
    void recurringMonitorReportsTheFirstResultAndThenOnlyChanges() throws Exception {
        List<OperationResult> heard = new CopyOnWriteArrayList<>();
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")))) {
            assertThat(run(executor, "watched", DUMMY, "start").rc()).isZero();
            executor.startRecurring(new OperationRequest("watched", DUMMY, "monitor", 100, TIMEOUT_MILLIS, Map.of()), heard::add);
            TestSupport.waitUntil("the first monitor result", () -> !heard.isEmpty());
            // Several more runs with the same answer must not be reported.
            Thread.sleep(500);
            assertThat(heard).extracting(OperationResult::rc).containsExactly(0);

            Files.delete(temp.resolve("run/rsctmp/Dummy-watched.state"));
            TestSupport.waitUntil("the change to not running", () -> heard.size() >= 2);
            Thread.sleep(500);
            assertThat(heard).extracting(OperationResult::rc).containsExactly(0, 7);
            assertThat(heard).extracting(OperationResult::intervalMillis).containsOnly(100L);

            assertThat(executor.cancelRecurring("watched", "monitor", 100)).isTrue();
            assertThat(executor.cancelRecurring("watched", "monitor", 100)).isFalse();
        }
    }

    @Test
    void metaDataOfAnOcfAgentIsParsed() throws Exception {
        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")))) {
            AgentMetadata dummy = executor.describe(DUMMY);
            assertThat(dummy.xml()).contains("<resource-agent name=\"Dummy\"");
            assertThat(dummy.parameters()).extracting(AgentParameter::name).contains("state", "fake");
            AgentMetadata ipaddr2 = executor.describe(AgentId.parse("ocf:heartbeat:IPaddr2"));
            assertThat(ipaddr2.requiredParameterNames()).containsExactly("ip");
            assertThat(executor.describe(AgentId.parse("herd:process")).requiredParameterNames()).containsExactly("command");
            assertThat(executor.describe(AgentId.parse("stonith:fence_dummy")).parameters())
                .extracting(AgentParameter::name).contains("status_file", "type");
        }
    }

    @Test
    void closeKillsRunningAgentsAndCancelsQueuedOperations() throws Exception {
        Path ocfRoot = TestSupport.ocfRootWith(temp.resolve("ocf"), "forking-sleeper");
        Path pids = temp.resolve("pids");
        Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")).withOcfRoot(ocfRoot));
        AgentId sleeper = AgentId.parse("ocf:herdtest:forking-sleeper");
        var running = executor.execute(new OperationRequest("s", sleeper, "start", 0, 60_000, Map.of("pids", pids.toString())));
        var queued = executor.execute(new OperationRequest("s", sleeper, "monitor", 0, 60_000, Map.of("pids", pids.toString())));
        TestSupport.waitUntil("the agent to record its processes",
            () -> Files.exists(pids) && readLines(pids).size() == 3);
        executor.close();

        assertThat(running.get(WAIT_MILLIS, TimeUnit.MILLISECONDS).status()).isEqualTo(ExecStatus.CANCELLED);
        assertThat(queued.get(WAIT_MILLIS, TimeUnit.MILLISECONDS).status()).isEqualTo(ExecStatus.CANCELLED);
        TestSupport.waitUntil("every process of the agent to be gone",
            () -> readLines(pids).stream().map(Long::parseLong).noneMatch(TestSupport::alive));
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (java.io.IOException e) {
            return List.of();
        }
    }
}
