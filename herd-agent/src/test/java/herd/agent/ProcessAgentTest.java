package herd.agent;

import static herd.agent.TestSupport.WAIT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;

import herd.agent.exec.ProcessGroups;
import herd.agent.runner.PidFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** herd:process with a real web server (python3 -m http.server) on a free loopback port. */
class ProcessAgentTest {

    private static final long TIMEOUT_MILLIS = 20_000;
    private static final AgentId PROCESS = AgentId.parse("herd:process");

    @TempDir
    Path temp;

    private Path runDirectory;
    private int port;
    private Path childPidFile;
    private Map<String, String> params;

    @BeforeEach
    void configure() throws Exception {
        runDirectory = temp.resolve("run");
        port = TestSupport.freePort();
        childPidFile = temp.resolve("child.pid");
        Files.createDirectories(temp.resolve("www"));
        Files.writeString(temp.resolve("www/index.html"), "hello from herd\n");
        // A helper child in the same process group shows that stop kills the group, not just the leader.
        params = Map.of(
            "command", "sleep 600 & echo $! > " + childPidFile + "; exec /usr/bin/python3 -m http.server " + port + " --bind 127.0.0.1",
            "directory", temp.resolve("www").toString(),
            "check_http", "http://127.0.0.1:" + port + "/",
            "check_tcp", "127.0.0.1:" + port);
    }

    @AfterEach
    void stopLeftovers() {
        PidFile.read(runDirectory.resolve("web.pid")).ifPresent(p -> ProcessGroups.killGroup(p.pid(), 2_000));
    }

    private OperationRequest request(String action) {
        return new OperationRequest("web", PROCESS, action, 0, TIMEOUT_MILLIS, params);
    }

    private static OperationResult run(Executor executor, OperationRequest request) throws Exception {
        return executor.execute(request).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Test
    void startMonitorStopOfAWebServer() throws Exception {
        try (Executor executor = new Executor(TestSupport.settings("node1", runDirectory))) {
            assertThat(run(executor, request("monitor")).rc()).as("probe before start").isEqualTo(7);
            OperationResult started = run(executor, request("start"));
            assertThat(started.rc()).as(started.toString()).isZero();
            assertThat(httpGet("http://127.0.0.1:" + port + "/index.html")).isEqualTo("hello from herd\n");
            assertThat(run(executor, request("monitor")).rc()).isZero();
            assertThat(run(executor, request("start")).rc()).as("starting a started process").isZero();

            long leader = PidFile.read(runDirectory.resolve("web.pid")).orElseThrow().pid();
            long child = Long.parseLong(Files.readString(childPidFile).strip());
            assertThat(TestSupport.alive(child)).isTrue();

            assertThat(run(executor, request("stop")).rc()).isZero();
            assertThat(TestSupport.alive(leader)).isFalse();
            assertThat(TestSupport.alive(child)).as("the helper child in the process group").isFalse();
            assertThat(runDirectory.resolve("web.pid")).doesNotExist();
            assertThat(runDirectory.resolve("web.log")).exists();
            assertThat(run(executor, request("stop")).rc()).as("stopping a stopped process").isZero();
            assertThat(run(executor, request("monitor")).rc()).isEqualTo(7);
        }
    }

    @Test
    void aProcessKilledBehindTheExecutorsBackIsReportedOnceByTheRecurringMonitor() throws Exception {
        List<OperationResult> heard = new CopyOnWriteArrayList<>();
        try (Executor executor = new Executor(TestSupport.settings("node1", runDirectory))) {
            assertThat(run(executor, request("start")).rc()).isZero();
            executor.startRecurring(request("monitor").withAction("monitor", 100), heard::add);
            TestSupport.waitUntil("the first monitor result", () -> !heard.isEmpty());

            long leader = PidFile.read(runDirectory.resolve("web.pid")).orElseThrow().pid();
            ProcessGroups.killGroup(leader, 5_000);

            TestSupport.waitUntil("the monitor to notice", () -> heard.size() >= 2);
            Thread.sleep(500);
            assertThat(heard).extracting(OperationResult::rc).containsExactly(0, 7);
            assertThat(heard.get(1).exitReason()).isEqualTo("process " + leader + " is gone");
            assertThat(executor.cancelAll("web")).isEqualTo(1);
            assertThat(run(executor, request("monitor")).rc()).isEqualTo(7);
        }
    }

    @Test
    void aNewExecutorProbesARunningProcessThroughItsPidFile() throws Exception {
        try (Executor first = new Executor(TestSupport.settings("node1", runDirectory))) {
            assertThat(run(first, request("start")).rc()).isZero();
        }
        try (Executor restarted = new Executor(TestSupport.settings("node1", runDirectory))) {
            assertThat(run(restarted, request("monitor")).rc()).as("probe after a daemon restart").isZero();
            assertThat(run(restarted, request("stop")).rc()).isZero();
            assertThat(run(restarted, request("monitor")).rc()).isEqualTo(7);
        }
    }

    @Test
    void aReusedPidIsNotMistakenForOurs() throws Exception {
        Files.createDirectories(runDirectory);
        // Our own JVM's pid, with a start time that is not its own.
        new PidFile(ProcessHandle.current().pid(), 1).write(runDirectory.resolve("web.pid"));
        try (Executor executor = new Executor(TestSupport.settings("node1", runDirectory))) {
            assertThat(run(executor, request("monitor")).rc()).isEqualTo(7);
            assertThat(run(executor, request("stop")).rc()).isZero();
        }
        assertThat(TestSupport.alive(ProcessHandle.current().pid())).isTrue();
    }

    @Test
    void aHealthCheckThatFailsMakesMonitorAnError() throws Exception {
        int otherPort = TestSupport.freePort();
        Map<String, String> sleeper = Map.of("command", "exec sleep 600", "check_tcp", "127.0.0.1:" + otherPort);
        try (Executor executor = new Executor(TestSupport.settings("node1", runDirectory))) {
            OperationResult start = run(executor, new OperationRequest("web", PROCESS, "start", 0, 1_000, sleeper));
            assertThat(start.status()).isEqualTo(ExecStatus.TIMEOUT);
            assertThat(start.exitReason()).startsWith("health check did not pass within 1000 ms: check_tcp 127.0.0.1:" + otherPort);
            OperationResult monitor = run(executor, new OperationRequest("web", PROCESS, "monitor", 0, 5_000, sleeper));
            assertThat(monitor.rc()).isEqualTo(1);
            assertThat(run(executor, new OperationRequest("web", PROCESS, "stop", 0, 5_000, sleeper)).rc()).isZero();

            OperationResult unconfigured = run(executor, new OperationRequest("web", PROCESS, "start", 0, 5_000, Map.of()));
            assertThat(unconfigured.rc()).isEqualTo(6);
            assertThat(unconfigured.exitReason()).contains("needs the parameter 'command'");
        }
    }

    @Test
    void closingTheExecutorEndsAStartThatIsWaitingForItsHealthCheck() throws Exception {
        int otherPort = TestSupport.freePort();
        Map<String, String> sleeper = Map.of("command", "exec sleep 600", "check_tcp", "127.0.0.1:" + otherPort);
        Executor executor = new Executor(TestSupport.settings("node1", runDirectory));
        var start = executor.execute(new OperationRequest("web", PROCESS, "start", 0, 600_000, sleeper));
        TestSupport.waitUntil("the pid file", () -> Files.exists(runDirectory.resolve("web.pid")));
        executor.close();
        assertThat(start.get(WAIT_MILLIS, TimeUnit.MILLISECONDS).status()).isEqualTo(ExecStatus.CANCELLED);
        long pid = PidFile.read(runDirectory.resolve("web.pid")).orElseThrow().pid();
        assertThat(TestSupport.alive(pid)).as("the service outlives the executor").isTrue();
    }

    private static String httpGet(String url) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
