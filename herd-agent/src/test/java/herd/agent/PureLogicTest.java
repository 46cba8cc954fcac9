package herd.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.agent.exec.ChildOutcome;
import herd.agent.exec.ProcessGroups;
import herd.agent.fence.FenceAction;
import herd.agent.fence.FenceAgentRunner;
import herd.agent.fence.FenceDevice;
import herd.agent.runner.AgentAnswer;
import herd.agent.runner.BuiltInMetadata;
import herd.agent.runner.ChildAnswers;
import herd.agent.runner.LsbRunner;
import herd.agent.runner.PidFile;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts without I/O: names, codes, mappings, parsers. */
class PureLogicTest {

    @Test
    void agentIdsParseAndPrintBack() {
        for (String text : new String[] {"ocf:heartbeat:Dummy", "lsb:myservice", "herd:process", "herd:floating-ip", "stonith:fence_dummy"}) {
            assertThat(AgentId.parse(text).toString()).isEqualTo(text);
        }
        AgentId dummy = AgentId.parse("ocf:heartbeat:Dummy");
        assertThat(dummy).isEqualTo(new AgentId("ocf", "heartbeat", "Dummy"));
        assertThat(AgentId.parse("lsb:myservice").provider()).isNull();
    }

    @Test
    void badAgentIdsSayWhatIsWrong() {
        assertThatThrownBy(() -> AgentId.parse("ocf:Dummy")).hasMessageContaining("ocf:provider:type");
        assertThatThrownBy(() -> AgentId.parse("systemd:nginx")).hasMessageContaining("unknown agent class 'systemd'");
        assertThatThrownBy(() -> AgentId.parse("herd:vm")).hasMessageContaining("herd:process and herd:floating-ip");
        assertThatThrownBy(() -> AgentId.parse("ocf:../..:passwd")).hasMessageContaining("provider '../..' is not valid");
        assertThatThrownBy(() -> AgentId.parse("lsb:a:b")).hasMessageContaining("class:type");
        assertThatThrownBy(() -> AgentId.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> AgentId.parse("lsb:")).hasMessageContaining("type '' is not valid");
    }

    @Test
    void requestsRejectBadInput() {
        AgentId dummy = AgentId.parse("ocf:heartbeat:Dummy");
        assertThatThrownBy(() -> new OperationRequest("../x", dummy, "start", 0, 1000, Map.of())).hasMessageContaining("resource id");
        assertThatThrownBy(() -> new OperationRequest("r", dummy, "start", 0, 0, Map.of())).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> new OperationRequest("r", dummy, "start", -1, 1000, Map.of())).hasMessageContaining("interval");
        assertThatThrownBy(() -> new OperationRequest("r", dummy, "start", 0, 1000, Map.of("a-b", "1")))
            .hasMessageContaining("OCF_RESKEY_a-b");
        assertThat(new OperationRequest("web:0", dummy, "monitor", 10000, 20000, null).key()).isEqualTo("web:0_monitor_10000");
    }

    @Test
    void codesFollowOcfAndPacemaker() {
        assertThat(Arrays.stream(OcfExit.values()).mapToInt(OcfExit::code)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(OcfExit.of(8)).isEqualTo(OcfExit.RUNNING_PROMOTED);
        assertThat(OcfExit.of(9).meaning()).isEqualTo("failed promoted");
        assertThat(Arrays.stream(ExecStatus.values()).mapToInt(ExecStatus::code)).containsExactly(-1, 0, 1, 2, 3, 4, 5, 6, 7);
        assertThatThrownBy(() -> OcfExit.of(10)).hasMessageContaining("0 to 9");
    }

    @Test
    void lsbCodesMapToOcf() {
        assertThat(LsbRunner.statusToOcf(0)).isEqualTo(0);
        assertThat(new int[] {LsbRunner.statusToOcf(1), LsbRunner.statusToOcf(2), LsbRunner.statusToOcf(3)}).containsOnly(7);
        assertThat(LsbRunner.statusToOcf(4)).isEqualTo(1);
        assertThat(LsbRunner.actionToOcf(0)).isEqualTo(0);
        assertThat(LsbRunner.actionToOcf(5)).isEqualTo(5);
        assertThat(LsbRunner.actionToOcf(7)).isEqualTo(1);
    }

    @Test
    void childOutcomesMapToAnswers() {
        assertThat(ChildAnswers.exitReason("x\nocf-exit-reason:one\nnoise\nocf-exit-reason: two \n")).contains("two");
        assertThat(ChildAnswers.exitReason("nothing here")).isEmpty();

        AgentAnswer killed = ChildAnswers.fromOcf(new ChildOutcome.Exited(137, "", ""), "ocf:x:y");
        assertThat(killed.status()).isEqualTo(ExecStatus.ERROR);
        assertThat(killed.exitReason()).isEqualTo("ocf:x:y was killed by signal 9");
        AgentAnswer strange = ChildAnswers.fromOcf(new ChildOutcome.Exited(42, "", ""), "ocf:x:y");
        assertThat(strange.rc()).isEqualTo(1);
        assertThat(strange.exitReason()).contains("code 42");
        AgentAnswer timedOut = ChildAnswers.fromOcf(new ChildOutcome.TimedOut(20000, "", ""), "ocf:x:y");
        assertThat(timedOut.status()).isEqualTo(ExecStatus.TIMEOUT);
        assertThat(timedOut.exitReason()).isEqualTo("timed out after 20000 ms");
        assertThat(ChildAnswers.fromOcf(new ChildOutcome.Cancelled(), "a").status()).isEqualTo(ExecStatus.CANCELLED);
        AgentAnswer promoted = ChildAnswers.fromOcf(new ChildOutcome.Exited(8, "", ""), "a");
        assertThat(promoted.rc()).isEqualTo(8);
        assertThat(promoted.status()).isEqualTo(ExecStatus.DONE);
    }

    @Test
    void procStatAndPidFilesParse() {
        ProcessGroups.ProcStat stat = ProcessGroups.parseStat(
            "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615");
        assertThat(stat.pid()).isEqualTo(4242);
        assertThat(stat.state()).isEqualTo('S');
        assertThat(stat.processGroupId()).isEqualTo(4242);
        assertThat(stat.sessionId()).isEqualTo(4242);
        assertThat(stat.startTimeTicks()).isEqualTo(987654);
        assertThat(ProcessGroups.startTime(ProcessHandle.current().pid())).isPresent();

        assertThat(PidFile.parse("123 456\n")).contains(new PidFile(123, 456));
        assertThat(PidFile.parse("123")).isEmpty();
        assertThat(PidFile.parse("abc def")).isEmpty();
        assertThat(new PidFile(7, 8).format()).isEqualTo("7 8\n");
    }

    @Test
    void fenceAgentsGetKeyValueLines() {
        FenceDevice ipmi = new FenceDevice("ipmi-n2", AgentId.parse("stonith:fence_ipmilan"),
            Map.of("ip", "10.0.0.2", "username", "admin", "password", "secret", "pcmk_delay_max", "5"));
        assertThat(FenceAgentRunner.stdinText(ipmi, "node2", FenceAction.OFF)).isEqualTo(
            "action=off\nplug=node2\nnodename=node2\nip=10.0.0.2\npassword=secret\nusername=admin\n");
        FenceDevice noPlug = new FenceDevice("d", AgentId.parse("stonith:fence_x"), Map.of("pcmk_host_argument", "none"));
        assertThat(FenceAgentRunner.stdinText(noPlug, "node2", FenceAction.REBOOT)).isEqualTo("action=reboot\nnodename=node2\n");
        assertThat(FenceAgentRunner.stdinText(ipmi, "node2", FenceAction.MONITOR)).doesNotContain("plug=");

        assertThatThrownBy(() -> new FenceDevice("d", AgentId.parse("stonith:fence_x"), Map.of("ip", "1.2.3.4\naction=on")))
            .hasMessageContaining("values are one line");
        assertThatThrownBy(() -> new FenceDevice("d", AgentId.parse("ocf:heartbeat:Dummy"), Map.of()))
            .hasMessageContaining("needs a stonith agent");
        assertThatThrownBy(() -> new FenceDevice("d", AgentId.parse("stonith:herd-script"), Map.of()))
            .hasMessageContaining("'command'");
        assertThat(FenceAction.parse("reboot")).isEqualTo(FenceAction.REBOOT);
    }

    @Test
    void recurringResultsAreReportedOnChangeOnly() {
        RecurringReports reports = new RecurringReports();
        assertThat(reports.shouldReport(result(0, ExecStatus.DONE))).isTrue();
        assertThat(reports.shouldReport(result(0, ExecStatus.DONE))).isFalse();
        assertThat(reports.shouldReport(result(7, ExecStatus.DONE))).isTrue();
        assertThat(reports.shouldReport(result(7, ExecStatus.DONE))).isFalse();
        assertThat(reports.shouldReport(result(1, ExecStatus.TIMEOUT))).isTrue();
        assertThat(reports.shouldReport(result(1, ExecStatus.DONE))).isTrue();
        assertThat(reports.shouldReport(result(0, ExecStatus.DONE))).isTrue();
    }

    @Test
    void builtInMetadataParses() {
        AgentMetadata ip = AgentMetadata.parse(AgentId.parse("herd:floating-ip"), BuiltInMetadata.floatingIp());
        assertThat(ip.requiredParameterNames()).containsExactly("ip", "nic");
        assertThat(ip.parameter("cidr_netmask").orElseThrow().defaultValue()).isEqualTo("32");
        assertThatThrownBy(() -> AgentMetadata.parse(AgentId.parse("lsb:x"), "<html/>")).hasMessageContaining("<resource-agent>");
        assertThatThrownBy(() -> AgentMetadata.parse(AgentId.parse("lsb:x"), "not xml")).hasMessageContaining("not well-formed");
    }

    @Test
    void builtInAgentsRejectMissingParametersAsNotConfigured(@org.junit.jupiter.api.io.TempDir java.nio.file.Path run) throws Exception {
        try (Executor executor = new Executor(TestSupport.settings("node1", run))) {
            OperationResult noNic = executor.execute(new OperationRequest("vip", AgentId.parse("herd:floating-ip"), "start", 0, 5_000,
                Map.of("ip", "10.0.0.5"))).get();
            assertThat(noNic.rc()).isEqualTo(6);
            assertThat(noNic.exitReason()).contains("needs the parameter 'nic'");
            OperationResult badMask = executor.execute(new OperationRequest("vip", AgentId.parse("herd:floating-ip"), "start", 0, 5_000,
                Map.of("ip", "10.0.0.5", "nic", "eth0", "cidr_netmask", "40"))).get();
            assertThat(badMask.exitReason()).contains("prefix length from 0 to 32");
            OperationResult promote = executor.execute(new OperationRequest("p", AgentId.parse("herd:process"), "promote", 0, 5_000,
                Map.of("command", "true"))).get();
            assertThat(promote.status()).isEqualTo(ExecStatus.NOT_SUPPORTED);
        }
    }

    private static OperationResult result(int rc, ExecStatus status) {
        return new OperationResult("r", "monitor", 1000, rc, status, "", 0, 1);
    }
}
