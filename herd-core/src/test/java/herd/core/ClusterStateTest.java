package herd.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.core.cluster.NodeInfo;
import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.kv.WatchFilter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class ClusterStateTest {
    private static final NodeInfo S1 = new NodeInfo("s1", NodeInfo.Role.SERVER, "127.0.0.1:7100", "127.0.0.1:7101", null);
    private static final NodeInfo W1 = new NodeInfo("w1", NodeInfo.Role.WORKER, "127.0.0.1:7200", null, "rack-2");

    private final ClusterState state = new ClusterState();
    private long index;

    private Outcome apply(Command command) {
        return state.apply(++index, command);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void initRegistersTheClusterAndItsFirstServer() {
        Outcome outcome = apply(new Command.InitCluster("prod", S1, false));

        assertThat(outcome).isInstanceOf(Outcome.Applied.class);
        assertThat(state.clusterName()).isEqualTo("prod");
        assertThat(state.nodes()).containsExactly(S1);
        assertThat(S1.zone()).isEqualTo("s1");
    }

    @Test
    void aSecondInitIsRejected() {
        apply(new Command.InitCluster("prod", S1, false));

        Outcome again = apply(new Command.InitCluster("other", S1, false));

        assertThat(again).isInstanceOf(Outcome.Rejected.class);
        assertThat(state.clusterName()).isEqualTo("prod");
    }

    @Test
    void nodesRegisterUpdateAndLeave() {
        apply(new Command.InitCluster("prod", S1, false));
        apply(new Command.RegisterNode(W1));
        NodeInfo moved = new NodeInfo("w1", NodeInfo.Role.WORKER, "127.0.0.1:7300", null, "rack-2");

        assertThat(apply(new Command.RegisterNode(moved))).isInstanceOf(Outcome.Applied.class);
        assertThat(state.node("w1")).contains(moved);
        assertThat(apply(new Command.RemoveNode("w1"))).isInstanceOf(Outcome.Applied.class);
        assertThat(state.node("w1")).isEmpty();
    }

    @Test
    void aRemovedNodeIsWaitedForUntilItsLeaseIsFoundOverOrItIsRegisteredAgain() throws Exception {
        apply(new Command.InitCluster("prod", S1, false));
        apply(new Command.RegisterNode(W1));
        apply(new Command.RegisterNode(new NodeInfo("w2", NodeInfo.Role.WORKER, "127.0.0.1:7201", null, null)));
        apply(new Command.RemoveNode("w1"));
        apply(new Command.RemoveNode("w2"));
        assertThat(removedNodesInLease(state)).containsExactly("w1", "w2");
        assertThat(removedNodesInLease(roundTrip(state))).as("a snapshot keeps them").containsExactly("w1", "w2");

        assertThat(apply(new Command.ForgetRemovedNode("w1"))).isInstanceOf(Outcome.Applied.class);
        apply(new Command.RegisterNode(new NodeInfo("w2", NodeInfo.Role.WORKER, "127.0.0.1:7201", null, null)));
        assertThat(removedNodesInLease(state)).isEmpty();
        assertRejected(apply(new Command.ForgetRemovedNode("w1")), ErrorCode.NODE_NOT_FOUND);
        assertRejected(apply(new Command.ForgetRemovedNode("s1")), ErrorCode.NODE_NOT_FOUND);
    }

    private static List<String> removedNodesInLease(ClusterState state) {
        return ((QueryResult.ResourceStatusView) state.query(new Query.ResourceStatus())).removedNodesInLease();
    }

    @Test
    void badNodeCommandsAreRejectedAndChangeNothing() {
        apply(new Command.InitCluster("prod", S1, false));
        List<NodeInfo> before = state.nodes();

        assertRejected(apply(new Command.RegisterNode(new NodeInfo("S 1", NodeInfo.Role.WORKER, "127.0.0.1:1", null, null))),
            ErrorCode.NAME_INVALID);
        assertRejected(apply(new Command.RegisterNode(new NodeInfo("w2", NodeInfo.Role.WORKER, "127.0.0.1", null, null))),
            ErrorCode.ADDRESS_INVALID);
        assertRejected(apply(new Command.RegisterNode(new NodeInfo("w2", NodeInfo.Role.WORKER, "127.0.0.1:70000", null, null))),
            ErrorCode.ADDRESS_INVALID);
        assertRejected(apply(new Command.RegisterNode(new NodeInfo("s2", NodeInfo.Role.SERVER, "127.0.0.1:7400", null, null))),
            ErrorCode.ADDRESS_INVALID);
        assertRejected(apply(new Command.RegisterNode(new NodeInfo("s1", NodeInfo.Role.WORKER, "127.0.0.1:7500", null, null))),
            ErrorCode.NODE_EXISTS);
        assertRejected(apply(new Command.RegisterNode(new NodeInfo("w3", NodeInfo.Role.WORKER, "127.0.0.1:7100", null, null))),
            ErrorCode.NODE_EXISTS);
        assertRejected(apply(new Command.RemoveNode("nobody")), ErrorCode.NODE_NOT_FOUND);
        assertRejected(apply(new Command.InitCluster("Bad Name", S1, false)), ErrorCode.NAME_INVALID);

        assertThat(state.nodes()).isEqualTo(before);
        assertThat(state.lastAppliedIndex()).isEqualTo(index);
    }

    @Test
    void aRestoredClusterRefusesWritesUntilItsLastBatchThenKeepsTheBackupsRevisions() {
        apply(new Command.InitCluster("prod", S1, true));
        herd.core.kv.KeyValue a = new herd.core.kv.KeyValue("a", bytes("1"), 3, 7, 2);
        herd.core.kv.KeyValue b = new herd.core.kv.KeyValue("b", bytes("2"), 9, 9, 1);

        assertRejected(apply(new Command.KvPut("x", bytes("v"), null)), ErrorCode.UNAVAILABLE);
        apply(new Command.RestoreKeys(List.of(a), 12, false));
        apply(new Command.RestoreKeys(List.of(a), 12, false));
        apply(new Command.RestoreKeys(List.of(b), 12, true));
        Outcome after = apply(new Command.KvPut("a", bytes("3"), 7L));

        assertThat(state.restoring()).isFalse();
        assertThat(after).isEqualTo(new Outcome.KvWritten(13, "a", 3, 3));
        assertThat(state.kv().get("b")).contains(b);
        assertThat(state.kv().changesSince(12, herd.core.kv.WatchFilter.prefix("")).isRefused()).isTrue();
        assertRejected(apply(new Command.RestoreKeys(List.of(b), 12, true)), ErrorCode.BAD_REQUEST);
    }

    @Test
    void aDamagedBackupBatchIsRejected() {
        apply(new Command.InitCluster("prod", S1, true));

        assertRejected(apply(new Command.RestoreKeys(List.of(new herd.core.kv.KeyValue("a", bytes("1"), 5, 20, 1)), 12, true)),
            ErrorCode.BAD_REVISION);
        assertThat(state.kv().size()).isZero();
        assertThat(state.restoring()).isTrue();
    }

    @Test
    void theResourceConfigurationIsReplacedWholeAndVersioned() throws Exception {
        assertThat(state.query(new Query.ResourceConfiguration())).isEqualTo(new QueryResult.ResourceConfigurationText("", 0));

        apply(new Command.SetResourceConfiguration("primitive a ocf:heartbeat:Dummy\n"));
        apply(new Command.SetResourceConfiguration("primitive b ocf:heartbeat:Dummy\n"));
        assertRejected(apply(new Command.SetResourceConfiguration("primitive c ocf:heartbeat:Dummy\n", 1L)),
            ErrorCode.REVISION_MISMATCH);
        assertThat(apply(new Command.SetResourceConfiguration("primitive c ocf:heartbeat:Dummy\n", 2L)))
            .isInstanceOf(Outcome.Applied.class);
        apply(new Command.SetResourceConfiguration("primitive b ocf:heartbeat:Dummy\n", 3L));
        assertRejected(apply(new Command.SetResourceConfiguration("x".repeat(Limits.MAX_RESOURCE_CONFIGURATION_BYTES + 1))),
            ErrorCode.VALUE_TOO_LARGE);

        QueryResult expected = new QueryResult.ResourceConfigurationText("primitive b ocf:heartbeat:Dummy\n", 4);
        assertThat(state.query(new Query.ResourceConfiguration())).isEqualTo(expected);
        assertThat(roundTrip(state).query(new Query.ResourceConfiguration())).isEqualTo(expected);
    }

    @Test
    void entriesMustBeAppliedInOrderOnce() {
        apply(new Command.KvPut("a", bytes("1"), null));

        assertThatThrownBy(() -> state.apply(index, new Command.KvPut("a", bytes("2"), null)))
            .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void queriesAnswerFromTheState() {
        apply(new Command.InitCluster("prod", S1, false));
        apply(new Command.KvPut("a/1", bytes("x"), null));
        apply(new Command.KvPut("a/2", bytes("y"), null));

        QueryResult get = state.query(new Query.KvGet("a/1"));
        QueryResult missing = state.query(new Query.KvGet("zz"));
        QueryResult list = state.query(new Query.KvList("a/", 1));
        QueryResult badList = state.query(new Query.KvList("a/", 0));
        QueryResult badGet = state.query(new Query.KvGet(""));
        QueryResult summary = state.query(new Query.Summary());

        assertThat(((QueryResult.KvValue) get).kv().value()).isEqualTo(bytes("x"));
        assertThat(((QueryResult.KvValue) missing).kv()).isNull();
        assertThat(((QueryResult.KvRange) list).kvs()).hasSize(1);
        assertThat(((QueryResult.KvRange) list).more()).isTrue();
        assertThat(badList).isInstanceOf(QueryResult.Refused.class);
        assertThat(badGet).isInstanceOf(QueryResult.Refused.class);
        assertThat(summary).isEqualTo(new QueryResult.ClusterSummary("prod", 2, 3, 2, 1, 0, false));
    }

    @Test
    void commandsOutcomesQueriesAndResultsSurviveTheCodec() {
        apply(new Command.InitCluster("prod", S1, false));
        List<Command> commands = List.of(
            new Command.KvPut("k", new byte[] {0, (byte) 0xff, 7}, 0L),
            new Command.KvDelete("k", null),
            new Command.RegisterNode(W1),
            new Command.RemoveNode("w1"),
            new Command.ForgetRemovedNode("w1"));
        for (Command command : commands) {
            Command decoded = Codec.decodeCommand(Codec.encode(command));
            if (command instanceof Command.KvPut put) {
                assertThat(((Command.KvPut) decoded).value()).isEqualTo(put.value());
                assertThat(((Command.KvPut) decoded).expectRevision()).isEqualTo(0L);
            } else {
                assertThat(decoded).isEqualTo(command);
            }
            Outcome outcome = apply(command);
            assertThat(Codec.decodeOutcome(Codec.encode(outcome))).isEqualTo(outcome);
        }
        for (Query query : List.of(new Query.KvGet("k"), new Query.KvList("", 5), new Query.Nodes(), new Query.Summary(),
            new Query.KvWatch(1, WatchFilter.prefix("k")))) {
            assertThat(Codec.decodeQuery(Codec.encode(query))).isEqualTo(query);
            QueryResult result = state.query(query);
            assertThat(Codec.decodeQueryResult(Codec.encode(result))).isEqualTo(result);
        }
    }

    @Property(tries = 50)
    void snapshotRestoresAnIdenticalState(@ForAll("commandLists") List<Command> commands) throws Exception {
        ClusterState original = new ClusterState();
        long i = 0;
        for (Command command : commands) {
            original.apply(++i, command);
        }

        ClusterState restored = roundTrip(original);

        assertThat(restored.image()).usingRecursiveComparison().isEqualTo(original.image());
        Command next = new Command.KvPut("k1", bytes("after"), null);
        assertThat(restored.apply(i + 1, next)).isEqualTo(original.apply(i + 1, next));
    }

    @Property(tries = 50)
    void twoStatesApplyingTheSameLogAgree(@ForAll("commandLists") List<Command> commands) {
        ClusterState a = new ClusterState();
        ClusterState b = new ClusterState();
        List<Outcome> outcomesA = new ArrayList<>();
        List<Outcome> outcomesB = new ArrayList<>();
        long i = 0;
        for (Command command : commands) {
            i++;
            outcomesA.add(a.apply(i, command));
            outcomesB.add(b.apply(i, command));
        }
        assertThat(outcomesA).isEqualTo(outcomesB);
        assertThat(Codec.encode(new QueryResult.KvRange(0, a.kv().allKeys(), false)))
            .isEqualTo(Codec.encode(new QueryResult.KvRange(0, b.kv().allKeys(), false)));
    }

    @Provide
    Arbitrary<List<Command>> commandLists() {
        Arbitrary<String> keys = Arbitraries.of("k1", "k2", "k3", "", "dir/k4");
        Arbitrary<byte[]> values = Arbitraries.bytes().array(byte[].class).ofMaxSize(8);
        Arbitrary<Long> revisions = Arbitraries.longs().between(-1, 6).injectNull(0.5);
        Arbitrary<Command> put = Combinators.combine(keys, values, revisions).as(Command.KvPut::new);
        Arbitrary<Command> delete = Combinators.combine(keys, revisions).as(Command.KvDelete::new);
        Arbitrary<Command> register = Arbitraries.of("w1", "w2", "BAD").map(name ->
            new Command.RegisterNode(new NodeInfo(name, NodeInfo.Role.WORKER, "127.0.0.1:" + (8000 + name.length()), null, null)));
        Arbitrary<Command> remove = Arbitraries.of("w1", "w2", "nobody").map(Command.RemoveNode::new);
        Arbitrary<Command> forget = Arbitraries.of("w1", "w2", "nobody").map(Command.ForgetRemovedNode::new);
        return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, put), net.jqwik.api.Tuple.of(2, delete),
            net.jqwik.api.Tuple.of(1, register), net.jqwik.api.Tuple.of(1, remove),
            net.jqwik.api.Tuple.of(1, forget)).list().ofMaxSize(40);
    }

    private static ClusterState roundTrip(ClusterState original) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Codec.writeImage(original.image(), out);
        return ClusterState.fromImage(Codec.readImage(new ByteArrayInputStream(out.toByteArray())));
    }

    private static void assertRejected(Outcome outcome, ErrorCode code) {
        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        assertThat(((Outcome.Rejected) outcome).rejection().code()).isEqualTo(code);
    }

    @Test
    void onlyCommandsTheCoordinatorDecidesFromMoveTheResourceChangeIndex() {
        apply(new Command.InitCluster("prod", S1, false));
        assertThat(resourcesChangedAt()).isEqualTo(1);
        apply(new Command.KvPut("k", bytes("v"), null));
        apply(new Command.CreateVolume("vm1", 1L << 30, 1, "", 0));
        assertThat(resourcesChangedAt()).as("key and volume writes do not wake the coordinator").isEqualTo(1);
        apply(new Command.SetNodeMembership("s1", herd.core.resource.NodeMembership.MEMBER, "heartbeating"));
        assertThat(resourcesChangedAt()).isEqualTo(state.lastAppliedIndex());
        apply(new Command.SetNodeMembership("nobody", herd.core.resource.NodeMembership.MEMBER, "heartbeating"));
        assertThat(resourcesChangedAt()).as("a rejected command changes nothing").isEqualTo(state.lastAppliedIndex() - 1);
    }

    private long resourcesChangedAt() {
        return ((QueryResult.LogIndex) state.query(new Query.ResourcesChangedAt())).index();
    }
}
