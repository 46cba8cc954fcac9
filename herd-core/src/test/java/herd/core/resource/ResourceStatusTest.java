package herd.core.resource;

import static org.assertj.core.api.Assertions.assertThat;

import herd.core.ClusterState;
import herd.core.codec.Codec;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.resource.NodeStatus.ResourceHistory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ResourceStatusTest {
    private static final NodeInfo S1 = new NodeInfo("s1", NodeInfo.Role.SERVER, "127.0.0.1:7100", "127.0.0.1:7101", null);
    private static final NodeInfo W1 = new NodeInfo("w1", NodeInfo.Role.WORKER, "127.0.0.1:7200", null, null);
    private static final String DUMMY = "ocf:heartbeat:Dummy";

    private final ClusterState state = new ClusterState();
    private long index;
    private long callId;

    private Outcome apply(Command command) {
        return state.apply(++index, command);
    }

    @BeforeEach
    void cluster() {
        apply(new Command.InitCluster("prod", S1, false));
        apply(new Command.RegisterNode(W1));
    }

    private OperationRecord op(String resource, String operation, long interval, int rc, int expectedRc) {
        return new OperationRecord(resource, DUMMY, operation, interval, rc, 0, expectedRc, ++callId, 1_000_000, 20, "");
    }

    private Outcome report(String node, OperationRecord... operations) {
        return apply(new Command.RecordOperations(node, List.of(operations)));
    }

    @Test
    void aNodeThatNeverJoinedIsDownAndItsResultsAreRefused() {
        assertThat(state.nodeStatus("w1").membership()).isEqualTo(NodeMembership.DOWN);

        Outcome outcome = report("w1", op("db", "start", 0, 0, 0));

        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        assertThat(((Outcome.Rejected) outcome).rejection().message()).contains("not recorded until it rejoins");
        assertThat(state.nodeStatus("w1").resources()).isEmpty();
    }

    @Test
    void aMemberRecordsTheLastOperationAndRecurringMonitors() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));

        report("w1", op("db", "monitor", 0, 7, 7), op("db", "start", 0, 0, 0), op("db", "monitor", 10_000, 0, 0));

        ResourceHistory db = state.nodeStatus("w1").resources().get("db");
        assertThat(db.operations()).containsOnlyKeys("last", "monitor_10000");
        assertThat(db.operations().get("last").operation()).isEqualTo("start");
        assertThat(db.failCounts()).isEmpty();
    }

    @Test
    void aFailedMonitorCountsAndAStopCancelsTheMonitors() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));
        report("w1", op("db", "start", 0, 0, 0), op("db", "monitor", 10_000, 0, 0));

        report("w1", op("db", "monitor", 10_000, 7, 0));
        ResourceHistory failed = state.nodeStatus("w1").resources().get("db");
        assertThat(failed.failCounts()).containsEntry("monitor_10000", 1);
        assertThat(failed.operations()).containsKey("last_failure");
        assertThat(failed.lastFailureEpochMillis()).isEqualTo(1_000_020);

        report("w1", op("db", "stop", 0, 0, 0));
        ResourceHistory stopped = state.nodeStatus("w1").resources().get("db");
        assertThat(stopped.operations()).containsOnlyKeys("last", "last_failure");
        assertThat(stopped.failCounts()).containsEntry("monitor_10000", 1);
    }

    @Test
    void aProbeAnswerIsNeverAFailureButAnAgentErrorIs() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));

        report("w1", op("db", "monitor", 0, 0, 7), op("web", "monitor", 0, 5, 7));

        assertThat(state.nodeStatus("w1").resources().get("db").failCounts()).isEmpty();
        assertThat(state.nodeStatus("w1").resources().get("web").failCounts()).containsEntry("monitor_0", 1);
    }

    @Test
    void aLateReportOfAnOlderCallDoesNotOverwriteANewerResult() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));
        OperationRecord start = op("db", "start", 0, 0, 0);
        OperationRecord stop = op("db", "stop", 0, 0, 0);

        report("w1", stop);
        report("w1", start);

        assertThat(state.nodeStatus("w1").resources().get("db").operations().get("last")).isEqualTo(stop);
    }

    @Test
    void aLostNodeRejoinsOnlyAfterItWasFencedAndFencingErasesItsHistory() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));
        report("w1", op("db", "start", 0, 0, 0));
        apply(new Command.SetNodeMembership("w1", NodeMembership.LOST, "no heartbeat for 1500 ms"));

        assertThat(apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat")))
            .isInstanceOf(Outcome.Rejected.class);
        assertThat(report("w1", op("db", "stop", 0, 0, 0))).isInstanceOf(Outcome.Rejected.class);
        assertThat(state.nodeStatus("w1").resources()).containsKey("db");

        apply(new Command.RecordFencing(new FencingEvent("w1", false, "fence-ipmi: timed out", 5)));
        assertThat(state.nodeStatus("w1").membership()).isEqualTo(NodeMembership.LOST);

        apply(new Command.RecordFencing(new FencingEvent("w1", true, "fence-pdu", 6)));
        assertThat(state.nodeStatus("w1").membership()).isEqualTo(NodeMembership.DOWN);
        assertThat(state.nodeStatus("w1").resources()).isEmpty();
        assertThat(apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat")))
            .isInstanceOf(Outcome.Applied.class);
        QueryResult.ResourceStatusView view = (QueryResult.ResourceStatusView) state.query(new Query.ResourceStatus());
        assertThat(view.fencingHistory()).extracting(FencingEvent::succeeded).containsExactly(false, true);
    }

    @Test
    void aMembersBootIdIsKeptWhileItIsLostOrDownAndABadOneIsRefused() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat", "boot-a"));
        apply(new Command.SetNodeMembership("w1", NodeMembership.LOST, "no heartbeat for 1500 ms"));
        assertThat(state.nodeStatus("w1").bootId()).isEqualTo("boot-a");
        assertThat(state.nodeStatus("w1").rebootedSince("boot-a")).isFalse();
        assertThat(state.nodeStatus("w1").rebootedSince("boot-b")).isTrue();
        assertThat(state.nodeStatus("w1").rebootedSince(null)).as("no boot id heard: nothing proven").isFalse();

        apply(new Command.RecordFencing(new FencingEvent("w1", true, "fence-pdu", 6)));
        assertThat(state.nodeStatus("w1").bootId()).isEqualTo("boot-a");
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat", "boot-b"));
        assertThat(state.nodeStatus("w1").bootId()).isEqualTo("boot-b");

        Outcome bad = apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat", "has spaces"));
        assertThat(bad).isInstanceOf(Outcome.Rejected.class);
        assertThat(((Outcome.Rejected) bad).rejection().message()).contains("boot id");
        assertThat(state.nodeStatus("w1").bootId()).isEqualTo("boot-b");
        Command command = new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat", "boot-c");
        assertThat(Codec.decodeCommand(Codec.encode(command))).isEqualTo(command);
    }

    @Test
    void cleanupForgetsHistoryAndFailCountsOnOneNodeOrEverywhere() {
        apply(new Command.SetNodeMembership("s1", NodeMembership.MEMBER, "heartbeat"));
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));
        report("s1", op("db", "start", 0, 1, 0));
        report("w1", op("db", "start", 0, 1, 0), op("web", "start", 0, 0, 0));

        apply(new Command.CleanupResource("db", "s1"));
        assertThat(state.nodeStatus("s1").resources()).doesNotContainKey("db");
        assertThat(state.nodeStatus("w1").resources()).containsKey("db");

        apply(new Command.CleanupResource("db", null));
        assertThat(state.nodeStatus("w1").resources()).containsOnlyKeys("web");
    }

    @Test
    void badReportsAreRejectedAndChangeNothing() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));

        assertThat(report("w1", op("db", "explode", 0, 0, 0))).isInstanceOf(Outcome.Rejected.class);
        assertThat(report("w1", op("", "start", 0, 0, 0))).isInstanceOf(Outcome.Rejected.class);
        assertThat(apply(new Command.RecordOperations("w1", List.of()))).isInstanceOf(Outcome.Rejected.class);
        assertThat(report("nobody", op("db", "start", 0, 0, 0))).isInstanceOf(Outcome.Rejected.class);
        assertThat(apply(new Command.SetNodeMembership("nobody", NodeMembership.MEMBER, "x"))).isInstanceOf(Outcome.Rejected.class);
        assertThat(state.nodeStatus("w1").resources()).isEmpty();
    }

    @Test
    void removingANodeForgetsItsStatus() {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat"));
        report("w1", op("db", "start", 0, 0, 0));

        apply(new Command.RemoveNode("w1"));
        apply(new Command.RegisterNode(W1));

        assertThat(state.nodeStatus("w1").membership()).isEqualTo(NodeMembership.DOWN);
        assertThat(state.nodeStatus("w1").resources()).isEmpty();
    }

    @Test
    void statusSurvivesTheCodecAndASnapshot() throws Exception {
        apply(new Command.SetNodeMembership("w1", NodeMembership.MEMBER, "heartbeat", "0f1e2d3c-boot"));
        report("w1", op("db", "start", 0, 0, 0), op("db", "monitor", 10_000, 7, 0));
        apply(new Command.RecordFencing(new FencingEvent("s1", false, "no device", 9)));
        Command command = new Command.RecordOperations("w1", List.of(op("db", "stop", 0, 0, 0)));
        assertThat(Codec.decodeCommand(Codec.encode(command))).isEqualTo(command);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Codec.writeImage(state.image(), out);
        ClusterState restored = ClusterState.fromImage(Codec.readImage(new ByteArrayInputStream(out.toByteArray())));

        assertThat(restored.nodeStatuses()).isEqualTo(state.nodeStatuses());
        assertThat(restored.query(new Query.ResourceStatus())).isEqualTo(state.query(new Query.ResourceStatus()));
    }
}
