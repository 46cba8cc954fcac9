package herd.agent;

import static herd.agent.TestSupport.WAIT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPaddr2 and herd:floating-ip inside a network namespace this test creates (with a veth pair in
 * it), reached through the executor's command wrapper; the namespace is deleted afterwards.
 */
class NetworkNamespaceTest {

    private static final long TIMEOUT_MILLIS = 20_000;
    private static final String NIC = "veth0";
    private static final String ADDRESS = "10.213.7.10";

    @TempDir
    Path temp;

    private String namespace;

    @BeforeEach
    void createNamespace() throws Exception {
        namespace = "herd-agent-test-" + ProcessHandle.current().pid();
        ip("netns", "add", namespace);
        ip("-n", namespace, "link", "add", NIC, "type", "veth", "peer", "name", "veth1");
        ip("-n", namespace, "link", "set", NIC, "up");
        ip("-n", namespace, "link", "set", "veth1", "up");
        ip("-n", namespace, "link", "set", "lo", "up");
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        TestSupport.run(List.of("ip", "netns", "del", namespace));
    }

    private static void ip(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        TestSupport.Result result = TestSupport.run(command);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(command + " failed: " + result.output());
        }
    }

    private String addressesInNamespace() throws Exception {
        return TestSupport.run(List.of("ip", "-n", namespace, "-o", "addr", "show", "dev", NIC)).output();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ocf:heartbeat:IPaddr2", "herd:floating-ip"})
    void addressComesAndGoesInsideTheNamespace(String agent) throws Exception {
        ExecutorSettings settings = TestSupport.settings("node1", temp.resolve("run"))
            .withCommandWrapper(List.of("ip", "netns", "exec", namespace));
        Map<String, String> params = Map.of("ip", ADDRESS, "cidr_netmask", "24", "nic", NIC);
        try (Executor executor = new Executor(settings)) {
            OperationResult probe = run(executor, agent, "monitor", params);
            assertThat(probe.rc()).as(probe.toString()).isEqualTo(7);

            OperationResult start = run(executor, agent, "start", params);
            assertThat(start.rc()).as(start.toString()).isZero();
            assertThat(addressesInNamespace()).contains("inet " + ADDRESS + "/24");
            assertThat(TestSupport.run(List.of("ip", "-o", "addr")).output()).as("the host's own interfaces")
                .doesNotContain(ADDRESS);
            assertThat(run(executor, agent, "monitor", params).rc()).isZero();

            OperationResult stop = run(executor, agent, "stop", params);
            assertThat(stop.rc()).as(stop.toString()).isZero();
            assertThat(addressesInNamespace()).doesNotContain(ADDRESS);
            assertThat(run(executor, agent, "monitor", params).rc()).isEqualTo(7);
            assertThat(run(executor, agent, "stop", params).rc()).as("stopping an absent address").isZero();
        }
    }

    private static OperationResult run(Executor executor, String agent, String action, Map<String, String> params) throws Exception {
        return executor.execute(new OperationRequest("vip", AgentId.parse(agent), action, 0, TIMEOUT_MILLIS, params))
            .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }
}
