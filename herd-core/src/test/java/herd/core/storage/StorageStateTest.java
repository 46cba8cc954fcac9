package herd.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.placement.StorageNode;
import herd.core.ClusterState;
import herd.core.ErrorCode;
import herd.core.Rejection;
import herd.core.StateImage;
import herd.core.cluster.NodeInfo;
import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.resource.FencingEvent;
import herd.core.resource.NodeMembership;
import herd.core.volume.VolumeRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Storage nodes, storage epochs and copies as part of the replicated cluster state. */
class StorageStateTest {
    private static final long GIB = 1L << 30;
    private static final NodeInfo S1 = new NodeInfo("s1", NodeInfo.Role.SERVER, "127.0.0.1:7100", "127.0.0.1:7101", null);

    private final ClusterState state = new ClusterState();
    private long index;
    private int nextPort = 7200;

    @BeforeEach
    void cluster() {
        assertApplied(apply(new Command.InitCluster("prod", S1, false)));
    }

    // ---- helpers ----

    private Outcome apply(Command command) {
        return state.apply(++index, command);
    }

    /** Registers a worker in {@code zone} (null: its own name) that offers {@code capacity} bytes; it stays down. */
    private void storageNode(String name, String zone, long capacity) {
        assertApplied(apply(new Command.RegisterNode(new NodeInfo(name, NodeInfo.Role.WORKER, "127.0.0.1:" + nextPort++, null,
            zone))));
        assertApplied(apply(new Command.RegisterStorage(name, capacity)));
    }

    private Outcome membership(String node, NodeMembership membership) {
        return apply(new Command.SetNodeMembership(node, membership, "test"));
    }

    private QueryResult.StorageMap map() {
        return storageMap(state);
    }

    private static QueryResult.StorageMap storageMap(ClusterState of) {
        return (QueryResult.StorageMap) of.query(new Query.StorageMap());
    }

    private long epoch() {
        return map().current().epoch();
    }

    private List<String> members() {
        return map().current().members().stream().map(StorageNode::name).toList();
    }

    private VolumeRecord volume(String name) {
        return ((QueryResult.VolumeDetail) state.query(new Query.VolumeInfo(name))).row().volume();
    }

    private List<QueryResult> answers(ClusterState of) {
        return List.of(of.query(new Query.StorageMap()), of.query(new Query.Volumes()), of.query(new Query.Nodes()),
            of.query(new Query.ResourceStatus()), of.query(new Query.Summary()));
    }

    /** w1 (rack-a) and w2 (rack-b), 10 GiB each, both members: epoch 2. */
    private void twoMembersInTwoRacks() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 10 * GIB);
        membership("w1", NodeMembership.MEMBER);
        membership("w2", NodeMembership.MEMBER);
    }

    private static void assertApplied(Outcome outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Applied.class);
    }

    private static Rejection rejection(Outcome outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        return ((Outcome.Rejected) outcome).rejection();
    }

    private static ClusterState roundTrip(ClusterState original) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Codec.writeImage(original.image(), out);
        return ClusterState.fromImage(Codec.readImage(new ByteArrayInputStream(out.toByteArray())));
    }

    // ---- registration ----

    @Test
    void storageOfAnUnknownNodeIsRefusedAndChangesNothing() {
        Rejection unknown = rejection(apply(new Command.RegisterStorage("ghost", 10 * GIB)));
        assertThat(unknown.code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(unknown.message()).contains("'ghost'");
        assertThat(rejection(apply(new Command.ReportStorageRecovered("ghost", 0))).code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(rejection(apply(new Command.RegisterStorage("s1", 0))).message()).contains("more than 0");
        assertThat(rejection(apply(new Command.RegisterStorage("BAD NAME", GIB))).code()).isNotNull();

        QueryResult.StorageMap map = map();
        assertThat(map.nodes()).isEmpty();
        assertThat(map.epochs()).isEmpty();
        assertThat(map.recoveredEpochs()).isEmpty();
        assertThat(map.current()).isEqualTo(new StorageEpoch(0, List.of()));
        assertThat(state.storage().registrations()).isEmpty();
    }

    @Test
    void registeringAgainReplacesTheCapacityAndShowsInTheMap() {
        storageNode("w1", "rack-a", 10 * GIB);
        assertApplied(apply(new Command.RegisterStorage("w1", 20 * GIB)));

        assertThat(map().nodes()).containsExactly(new StorageNodeView("w1", "rack-a", 20 * GIB, "127.0.0.1:7200", "DOWN", List.of()));
        assertThat(map().epochs()).as("a node that is down is in no epoch").isEmpty();
    }

    // ---- epochs ----

    @Test
    void epochsStartWhenStorageNodesBecomeMembers() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 20 * GIB);
        assertThat(epoch()).isZero();

        assertApplied(membership("w1", NodeMembership.MEMBER));
        assertThat(epoch()).isEqualTo(1);
        assertThat(map().current().members()).containsExactly(new StorageNode("w1", "rack-a", 10 * GIB));

        assertApplied(membership("w2", NodeMembership.MEMBER));
        assertThat(epoch()).isEqualTo(2);
        assertThat(map().current().members()).containsExactly(new StorageNode("w1", "rack-a", 10 * GIB),
            new StorageNode("w2", "rack-b", 20 * GIB));

        assertApplied(membership("w2", NodeMembership.MEMBER));
        assertApplied(membership("s1", NodeMembership.MEMBER));
        assertThat(epoch()).as("the same members, and a node without storage, start no epoch").isEqualTo(2);

        assertApplied(apply(new Command.RegisterStorage("w2", 40 * GIB)));
        assertThat(epoch()).as("a member's new capacity changes its weight").isEqualTo(3);
        assertThat(map().current().members()).contains(new StorageNode("w2", "rack-b", 40 * GIB));

        assertApplied(apply(new Command.RegisterStorage("s1", 5 * GIB)));
        assertThat(epoch()).as("a member that starts offering storage joins at once").isEqualTo(4);
        assertThat(members()).containsExactly("s1", "w1", "w2");
        assertThat(map().current().members().get(0).zone()).as("a zone defaults to the node's name").isEqualTo("s1");

        assertThat(map().epochs()).extracting(StorageEpoch::epoch).containsExactly(1L, 2L, 3L, 4L);
        assertThat(map().nodes()).extracting(StorageNodeView::name, StorageNodeView::membership)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("s1", "MEMBER"), org.assertj.core.groups.Tuple.tuple("w1", "MEMBER"),
                org.assertj.core.groups.Tuple.tuple("w2", "MEMBER"));
    }

    @Test
    void anEpochEndsWhenANodeIsLostOrDownAndAnotherStartsWhenItIsBack() {
        twoMembersInTwoRacks();
        assertThat(epoch()).isEqualTo(2);

        assertApplied(membership("w2", NodeMembership.LOST));
        assertThat(epoch()).isEqualTo(3);
        assertThat(members()).containsExactly("w1");
        assertThat(map().nodes()).filteredOn(n -> n.name().equals("w2")).singleElement()
            .extracting(StorageNodeView::membership).isEqualTo("LOST");

        assertThat(rejection(membership("w2", NodeMembership.MEMBER)).message()).contains("is lost");
        assertThat(epoch()).as("a refused change starts no epoch").isEqualTo(3);

        assertApplied(membership("w2", NodeMembership.DOWN));
        assertThat(epoch()).as("lost to down: still not a member").isEqualTo(3);

        assertApplied(membership("w2", NodeMembership.MEMBER));
        assertThat(epoch()).isEqualTo(4);
        assertThat(members()).containsExactly("w1", "w2");

        assertApplied(membership("w1", NodeMembership.DOWN));
        assertThat(epoch()).isEqualTo(5);
        assertThat(members()).containsExactly("w2");

        assertApplied(apply(new Command.ReportStorageRecovered("w2", 5)));
        assertApplied(apply(new Command.RemoveNode("w2")));
        assertThat(epoch()).as("a removed node leaves the epoch").isEqualTo(6);
        assertThat(members()).isEmpty();
        assertThat(map().nodes()).extracting(StorageNodeView::name).containsExactly("w1");
        assertThat(map().recoveredEpochs()).as("its recovery is forgotten").isEmpty();
        assertThat(state.storage().registrations()).extracting(StorageRegistration::node).containsExactly("w1");

        assertThat(map().epochs()).extracting(e -> e.members().stream().map(StorageNode::name).toList())
            .containsExactly(List.of("w1"), List.of("w1", "w2"), List.of("w1"), List.of("w1", "w2"), List.of("w2"), List.of());
        assertThat(state.storage().epoch(3)).map(e -> e.hasMember("w2")).contains(false);
        assertThat(state.storage().epoch(4)).map(e -> e.hasMember("w2")).contains(true);
    }

    @Test
    void onlyTheLast64EpochsAreKept() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 10 * GIB);
        membership("w2", NodeMembership.MEMBER);
        for (int i = 0; i < 50; i++) {
            membership("w1", NodeMembership.MEMBER);
            membership("w1", NodeMembership.DOWN);
        }
        long last = 1 + 100;
        assertThat(epoch()).isEqualTo(last);

        List<StorageEpoch> epochs = map().epochs();
        assertThat(epochs).hasSize(StorageTable.KEPT_EPOCHS);
        assertThat(epochs.get(0).epoch()).isEqualTo(last - StorageTable.KEPT_EPOCHS + 1);
        for (int i = 1; i < epochs.size(); i++) {
            assertThat(epochs.get(i).epoch()).isEqualTo(epochs.get(i - 1).epoch() + 1);
        }
        assertThat(state.storage().epoch(last - StorageTable.KEPT_EPOCHS)).isEmpty();
        assertThat(state.storage().epoch(last - StorageTable.KEPT_EPOCHS + 1)).isPresent();
        assertThat(members()).containsExactly("w2");

        assertApplied(apply(new Command.ReportStorageRecovered("w2", 1)));
        assertThat(map().recoveredEpochs()).as("an epoch no longer kept may still be reported").containsEntry("w2", 1L);
    }

    @Test
    void recoveryKeepsTheHighestEpochAndRefusesOneThatHasNotStarted() {
        twoMembersInTwoRacks();
        membership("w2", NodeMembership.DOWN);
        assertThat(epoch()).isEqualTo(3);

        assertApplied(apply(new Command.ReportStorageRecovered("w1", 2)));
        assertApplied(apply(new Command.ReportStorageRecovered("w1", 3)));
        assertApplied(apply(new Command.ReportStorageRecovered("w1", 1)));
        assertThat(map().recoveredEpochs()).isEqualTo(Map.of("w1", 3L));

        Rejection future = rejection(apply(new Command.ReportStorageRecovered("w1", 4)));
        assertThat(future.code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(future.message()).contains("epoch 4").contains("current epoch is 3");
        assertThat(rejection(apply(new Command.ReportStorageRecovered("w2", -1))).message()).contains("negative");
        assertThat(map().recoveredEpochs()).isEqualTo(Map.of("w1", 3L));

        assertApplied(apply(new Command.ReportStorageRecovered("w2", 0)));
        assertThat(map().recoveredEpochs()).isEqualTo(Map.of("w1", 3L, "w2", 0L));
    }

    @Test
    void aNodeMayRenewTheCurrentEpochOnceWithTheSameMembers() {
        twoMembersInTwoRacks();
        assertThat(epoch()).isEqualTo(2);

        Outcome renewed = apply(new Command.RenewStorageEpoch("w1", 2, "node w2 did not answer a write in time"));
        assertThat(renewed).isInstanceOfSatisfying(Outcome.Applied.class, applied -> assertThat(applied.description())
            .contains("storage epoch 3 began with the same members").contains("node w2 did not answer a write in time"));
        assertThat(epoch()).isEqualTo(3);
        assertThat(members()).containsExactly("w1", "w2");

        // another change of epoch 2 timed out too: epoch 3 already did what it asks
        assertThat(apply(new Command.RenewStorageEpoch("w1", 2, "again"))).isInstanceOfSatisfying(Outcome.Applied.class,
            applied -> assertThat(applied.description()).contains("has ended already"));
        assertThat(epoch()).isEqualTo(3);

        Rejection future = rejection(apply(new Command.RenewStorageEpoch("w1", 4, "too soon")));
        assertThat(future.message()).contains("epoch 4 has not started");
        assertThat(rejection(apply(new Command.RenewStorageEpoch("w1", -1, "x"))).message()).contains("negative");
        assertThat(rejection(apply(new Command.RenewStorageEpoch("w1", 3, null))).message()).contains("reason must be given");
        assertThat(rejection(apply(new Command.RenewStorageEpoch("ghost", 3, "x"))).code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(epoch()).as("refusals change nothing").isEqualTo(3);
    }

    // ---- a data path the majority cannot reach ----

    /** w1, w2, w3 in three racks, 10 GiB each, all members: epoch 3. */
    private void threeMembersInThreeRacks() {
        twoMembersInTwoRacks();
        storageNode("w3", "rack-c", 10 * GIB);
        membership("w3", NodeMembership.MEMBER);
    }

    private Outcome report(String node, String... unreachable) {
        return apply(new Command.ReportUnreachableStorage(node, List.of(unreachable)));
    }

    private List<String> cutOffBy(String node) {
        return map().nodes().stream().filter(view -> view.name().equals(node)).findFirst().orElseThrow().cutOffBy();
    }

    @Test
    void aNodeTheMajorityCannotReachLeavesTheEpochAndComesBackWhenReachedAgain() {
        threeMembersInThreeRacks();
        assertThat(epoch()).isEqualTo(3);

        assertThat(report("w1", "w2")).isInstanceOfSatisfying(Outcome.Applied.class, applied -> assertThat(
            applied.description()).isEqualTo("node w1 cannot reach the data path of w2"));
        assertThat(members()).as("one node's word is not enough: its own link may be the bad one")
            .containsExactly("w1", "w2", "w3");
        assertThat(epoch()).isEqualTo(3);

        assertApplied(report("w3", "w2"));
        assertThat(members()).containsExactly("w1", "w3");
        assertThat(epoch()).isEqualTo(4);
        assertThat(cutOffBy("w2")).containsExactly("w1", "w3");
        assertThat(cutOffBy("w1")).isEmpty();

        assertApplied(report("w2", "w1", "w3"));
        assertThat(members()).as("a node cut off has no say about the others").containsExactly("w1", "w3");
        assertThat(report("w1", "w2")).isInstanceOfSatisfying(Outcome.Applied.class, applied -> assertThat(
            applied.description()).contains("the same"));
        assertThat(epoch()).isEqualTo(4);

        assertApplied(report("w1"));
        assertThat(members()).as("the majority reaches it again").containsExactly("w1", "w2", "w3");
        assertThat(epoch()).isEqualTo(5);
        assertThat(cutOffBy("w2")).isEmpty();
        assertApplied(report("w3"));
        assertThat(members()).as("what it reported while cut off does not count once it is back")
            .containsExactly("w1", "w2", "w3");
        assertThat(epoch()).isEqualTo(5);
    }

    @Test
    void ofTwoNodesThatCannotReachEachOtherTheFirstReportedIsCutOffAndTheOtherStays() {
        twoMembersInTwoRacks();
        assertApplied(report("w2", "w1"));
        assertThat(members()).containsExactly("w2");
        assertApplied(report("w1", "w2"));
        assertThat(members()).as("the last member is never cut off").containsExactly("w2");
        assertThat(cutOffBy("w1")).containsExactly("w2");

        assertApplied(membership("w1", NodeMembership.DOWN));
        assertThat(cutOffBy("w1")).as("a node that is down is out anyway").isEmpty();
        assertApplied(report("w2"));
        assertApplied(membership("w1", NodeMembership.MEMBER));
        assertThat(members()).as("back, reached, and what it reported before it was down does not count")
            .containsExactly("w1", "w2");
    }

    @Test
    void badReportsOfUnreachableNodesAreRefusedAndChangeNothing() {
        threeMembersInThreeRacks();
        assertThat(rejection(report("w1", "w1")).message()).contains("reported itself unreachable");
        assertThat(rejection(report("w1", "ghost")).message()).contains("node ghost offers no storage");
        assertThat(rejection(report("s1", "w2")).message()).contains("node s1 offers no storage");
        assertThat(rejection(report("nobody", "w2")).code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(rejection(apply(new Command.ReportUnreachableStorage("w1", null))).message())
            .contains("list of at most");
        assertThat(rejection(report("w1", "BAD NAME")).code()).isEqualTo(ErrorCode.NAME_INVALID);
        assertThat(members()).containsExactly("w1", "w2", "w3");
        assertThat(epoch()).isEqualTo(3);
    }

    @Test
    void reportsAndCutOffNodesSurviveASnapshot() throws Exception {
        threeMembersInThreeRacks();
        report("w1", "w3");
        report("w2", "w3");
        ClusterState restored = roundTrip(state);
        assertThat(storageMap(restored)).isEqualTo(map());
        assertThat(restored.image()).isEqualTo(state.image());
    }

    private Outcome stall(String node, String why) {
        return apply(new Command.ReportStoreStall(node, why));
    }

    private String stallOf(String node) {
        return map().nodes().stream().filter(view -> view.name().equals(node)).findFirst().orElseThrow().stall();
    }

    @Test
    void aNodeWhoseStoreDoesNotAnswerLeavesTheEpochOnItsOwnWordAndComesBackWhenItAnswers() {
        threeMembersInThreeRacks();
        assertThat(stall("w2", "an operation on its store has waited 12 s")).isInstanceOfSatisfying(Outcome.Applied.class,
            applied -> assertThat(applied.description()).isEqualTo(
                "node w2's store does not answer: an operation on its store has waited 12 s"));
        assertThat(members()).containsExactly("w1", "w3");
        assertThat(epoch()).isEqualTo(4);
        assertThat(stallOf("w2")).isEqualTo("an operation on its store has waited 12 s");
        assertThat(stallOf("w1")).isEmpty();

        assertApplied(stall("w2", "an operation on its store has waited 22 s"));
        assertThat(epoch()).as("saying it again changes no epoch").isEqualTo(4);

        assertThat(stall("w2", "")).isInstanceOfSatisfying(Outcome.Applied.class,
            applied -> assertThat(applied.description()).isEqualTo("node w2's store answers again"));
        assertThat(members()).containsExactly("w1", "w2", "w3");
        assertThat(epoch()).isEqualTo(5);
        assertThat(stallOf("w2")).isEmpty();
    }

    @Test
    void onlyOneNodeAtATimeIsOutOnItsOwnWordAndNeverTheLastMember() {
        threeMembersInThreeRacks();
        assertApplied(stall("w3", "an operation on its store has waited 10 s"));
        assertApplied(stall("w1", "an operation on its store has waited 11 s"));
        assertThat(members()).as("when every disk is slow each says so: one goes, the first to say it")
            .containsExactly("w1", "w2");
        assertThat(stallOf("w1")).as("kept in, but what it said shows").isNotEmpty();

        assertApplied(stall("w3", ""));
        assertThat(members()).as("the next one that says so goes once the first is back").containsExactly("w2", "w3");

        assertApplied(membership("w2", NodeMembership.DOWN));
        assertApplied(membership("w3", NodeMembership.DOWN));
        assertThat(members()).as("the last member stays, whatever its store says").containsExactly("w1");
        assertApplied(membership("w2", NodeMembership.MEMBER));
        assertThat(members()).as("with another member, it goes out again").containsExactly("w2");

        assertApplied(report("w2", "w1"));
        assertApplied(membership("w3", NodeMembership.MEMBER));
        assertThat(members()).containsExactly("w2", "w3");
        assertApplied(report("w3", "w1"));
        assertThat(cutOffBy("w1")).as("cut off, it is out on the others' word").containsExactly("w2", "w3");
        assertApplied(stall("w3", "an operation on its store has waited 10 s"));
        assertThat(members()).as("a cut-off node is not the one out for its store: the next is")
            .containsExactly("w2");
    }

    @Test
    void aNodeBackFromDownSaysAfreshHowItsStoreIs() {
        threeMembersInThreeRacks();
        assertApplied(stall("w2", "an operation on its store has waited 12 s"));
        assertApplied(membership("w2", NodeMembership.DOWN));
        assertThat(stallOf("w2")).isEmpty();
        assertApplied(membership("w2", NodeMembership.MEMBER));
        assertThat(members()).containsExactly("w1", "w2", "w3");
    }

    @Test
    void badWordsAboutAStoreAreRefusedAndChangeNothing() {
        threeMembersInThreeRacks();
        assertThat(rejection(stall("s1", "stuck")).message()).contains("node s1 offers no storage");
        assertThat(rejection(stall("nobody", "stuck")).code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(rejection(stall("w1", null)).message()).contains("empty text when it answers");
        assertThat(rejection(stall("w1", "x".repeat(StorageTable.MAX_REASON_CHARS + 1))).message())
            .contains("at most " + StorageTable.MAX_REASON_CHARS + " characters");
        assertThat(rejection(stall("BAD NAME", "stuck")).code()).isEqualTo(ErrorCode.NAME_INVALID);
        assertThat(members()).containsExactly("w1", "w2", "w3");
        assertThat(epoch()).isEqualTo(3);
    }

    @Test
    void aStoreThatDoesNotAnswerSurvivesASnapshot() throws Exception {
        threeMembersInThreeRacks();
        stall("w1", "an operation on its store has waited 12 s");
        stall("w2", "an operation on its store has waited 13 s");
        ClusterState restored = roundTrip(state);
        assertThat(storageMap(restored)).isEqualTo(map());
        assertThat(restored.image()).isEqualTo(state.image());
        assertApplied(restored.apply(++index, new Command.ReportStoreStall("w1", "")));
        assertThat(restored.query(new Query.StorageMap())).isInstanceOfSatisfying(QueryResult.StorageMap.class,
            restoredMap -> assertThat(restoredMap.current().members()).extracting(member -> member.name())
                .as("who is out came back with the image: the other goes out once the first is back")
                .containsExactly("w1", "w3"));
    }

    // ---- copies ----

    @Test
    void theDefaultCopiesAreBoundByTheZonesAndUsedForVolumesThatDoNotAsk() {
        assertThat(map().defaultCopies()).isEqualTo(1);
        assertApplied(apply(new Command.SetStorageDefaults(1)));
        assertThat(rejection(apply(new Command.SetStorageDefaults(0))).code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(rejection(apply(new Command.SetStorageDefaults(9))).message()).contains("give 1 to 8");

        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-a", 10 * GIB);
        Rejection oneZone = rejection(apply(new Command.SetStorageDefaults(2)));
        assertThat(oneZone.code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(oneZone.message()).contains("2 copies").contains("the cluster default").contains("1 zone(s)");
        assertThat(map().defaultCopies()).isEqualTo(1);

        storageNode("w3", "rack-b", 10 * GIB);
        assertApplied(apply(new Command.SetStorageDefaults(2)));
        assertThat(map().defaultCopies()).as("zones count registered nodes, up or not").isEqualTo(2);
        assertThat(rejection(apply(new Command.SetStorageDefaults(3))).message()).contains("2 zone(s)");

        assertApplied(apply(new Command.CreateVolume("vm1", GIB, 0, "", 1)));
        assertApplied(apply(new Command.CreateVolume("vm2", GIB, 1, "", 2)));
        assertThat(volume("vm1").copies()).isEqualTo(2);
        assertThat(volume("vm2").copies()).isEqualTo(1);
        assertThat(map().copiesByVolumeId()).isEqualTo(Map.of(volume("vm1").id(), 2, volume("vm2").id(), 1));

        assertApplied(apply(new Command.SnapshotVolume("vm1", "vm1.snap", "", 3)));
        assertThat(volume("vm1.snap").copies()).isEqualTo(2);
        assertThat(map().copiesByVolumeId()).hasSize(3).containsValues(2, 2, 1);
    }

    /**
     * A clone keeps its own objects in its snapshot's copies or the ones it asks for, checked against
     * the zones as a new volume's are: a template snapshotted when there were three zones is cloned
     * into two only when the clone asks for two. A clone logged by an earlier build is not checked.
     */
    @Test
    void aCloneWithMoreCopiesThanZonesIsRefusedUnlessItAsksForFewer() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 10 * GIB);
        storageNode("w3", "rack-c", 10 * GIB);
        assertApplied(apply(new Command.CreateVolume("template", GIB, 3, "", 1)));
        assertApplied(apply(new Command.SnapshotVolume("template", "golden", "", 2)));
        assertApplied(apply(new Command.RemoveNode("w3")));

        Rejection inherited = rejection(apply(new Command.CloneVolume("golden", "vm1", 3, 0)));
        assertThat(inherited.code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(inherited.message()).contains("3 copies asked for clone 'vm1' (its snapshot's copies; choose others "
            + "with --copies)").contains("2 zone(s)");
        assertThat(rejection(apply(new Command.CloneVolume("golden", "vm1", 3, 3))).message()).contains("2 zone(s)");
        assertThat(state.query(new Query.VolumeInfo("vm1"))).as("nothing changed").isInstanceOf(QueryResult.Refused.class);

        assertApplied(apply(new Command.CloneVolume("golden", "vm1", 4, 2)));
        assertThat(volume("vm1").copies()).isEqualTo(2);
        assertThat(map().copiesByVolumeId()).containsEntry(volume("vm1").id(), 2).containsEntry(volume("golden").id(), 3);
        assertApplied(apply(new Command.CloneVolume("golden", "vm2", 5)));
        assertThat(volume("vm2").copies()).as("an earlier build's clone: the snapshot's, unchecked").isEqualTo(3);
        String loggedBefore = "{\"command\":\"clone-volume\",\"snapshot\":\"golden\",\"newName\":\"vm3\","
            + "\"createdMillis\":6}";
        assertThat(Codec.decodeCommand(loggedBefore.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
            .isEqualTo(new Command.CloneVolume("golden", "vm3", 6));
        assertThat(rejection(apply(new Command.CloneVolume("template", "vm4", 7, 0))).message())
            .as("a working volume is not a snapshot; the catalog says so").doesNotContain("zone");
        assertThat(rejection(apply(new Command.CloneVolume("golden", "vm5", 8, -1))).message()).contains("give 1 to 8");
    }

    @Test
    void aVolumeWithMoreCopiesThanZonesIsRefusedAndChangesNothing() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 10 * GIB);
        membership("w1", NodeMembership.MEMBER);
        StateImage before = state.image();

        Rejection three = rejection(apply(new Command.CreateVolume("vm1", GIB, 3, "", 1)));
        assertThat(three.code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(three.message()).contains("3 copies asked for volume 'vm1'").contains("span 2 zone(s)");
        assertThat(rejection(apply(new Command.CreateVolume("vm1", GIB, 9, "", 1))).message()).contains("give 1 to 8");
        assertThat(rejection(apply(new Command.CreateVolume("vm1", GIB, -1, "", 1))).code()).isEqualTo(ErrorCode.BAD_REQUEST);

        assertThat(((QueryResult.VolumeList) state.query(new Query.Volumes())).volumes()).isEmpty();
        assertThat(state.image()).usingRecursiveComparison().ignoringFields("lastAppliedIndex").isEqualTo(before);

        assertApplied(apply(new Command.CreateVolume("vm1", GIB, 2, "", 1)));
        assertThat(volume("vm1").copies()).isEqualTo(2);

        assertApplied(apply(new Command.SetStorageDefaults(2)));
        assertApplied(apply(new Command.RemoveNode("w2")));
        Rejection byDefault = rejection(apply(new Command.CreateVolume("vm2", GIB, 0, "", 2)));
        assertThat(byDefault.message()).as("the default, too, needs its zones").contains("2 copies asked for volume 'vm2'")
            .contains("1 zone(s)");
        assertThat(((QueryResult.VolumeList) state.query(new Query.Volumes())).volumes()).hasSize(1);
    }

    // ---- fencing ----

    @Test
    void fencingANodeReleasesItsVolumesAndEndsItsEpoch() {
        twoMembersInTwoRacks();
        apply(new Command.CreateVolume("vm1", GIB, 2, "", 1));
        apply(new Command.CreateVolume("vm2", GIB, 2, "", 1));
        assertApplied(apply(new Command.AttachVolume("vm1", "w1")));
        assertApplied(apply(new Command.AttachVolume("vm2", "w2")));
        long epochBefore = epoch();

        assertApplied(apply(new Command.RecordFencing(new FencingEvent("w1", false, "ipmi timed out", 10))));
        assertThat(volume("vm1").attachedNode()).as("a failed fencing releases nothing").isEqualTo("w1");
        assertThat(epoch()).isEqualTo(epochBefore);

        assertApplied(apply(new Command.RecordFencing(new FencingEvent("w1", true, "fence-ipmi", 20))));
        assertThat(volume("vm1").attachedNode()).isNull();
        assertThat(volume("vm2").attachedNode()).isEqualTo("w2");
        assertThat(state.nodeStatus("w1").membership()).isEqualTo(NodeMembership.DOWN);
        assertThat(epoch()).isEqualTo(epochBefore + 1);
        assertThat(members()).containsExactly("w2");

        assertApplied(apply(new Command.AttachVolume("vm1", "w2")));
        assertThat(rejection(apply(new Command.RecordFencing(new FencingEvent("ghost", true, "x", 30)))).code())
            .isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(volume("vm1").attachedNode()).isEqualTo("w2");
    }

    @Test
    void removingANodeReleasesWhatIsStillAttachedToIt() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 10 * GIB);
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1));
        apply(new Command.CreateVolume("vm2", GIB, 1, "", 1));
        assertApplied(apply(new Command.AttachVolume("vm1", "w1")));
        assertApplied(apply(new Command.AttachVolume("vm2", "w2")));

        assertApplied(apply(new Command.RemoveNode("w1")));
        assertThat(volume("vm1").attachedNode()).as("a removed node can be neither asked nor fenced").isNull();
        assertThat(volume("vm2").attachedNode()).isEqualTo("w2");
        assertApplied(apply(new Command.AttachVolume("vm1", "w2")));
    }

    // ---- images and codec ----

    /** Nodes in two zones, a default, several epochs, a recovery report and volumes. */
    private void richState() {
        storageNode("w1", "rack-a", 10 * GIB);
        storageNode("w2", "rack-b", 20 * GIB);
        storageNode("w3", null, 30 * GIB);
        membership("w1", NodeMembership.MEMBER);
        membership("w2", NodeMembership.MEMBER);
        membership("w3", NodeMembership.MEMBER);
        membership("w3", NodeMembership.LOST);
        apply(new Command.SetStorageDefaults(2));
        apply(new Command.ReportStorageRecovered("w1", 3));
        apply(new Command.ReportStorageRecovered("w2", 4));
        apply(new Command.CreateVolume("vm1", GIB, 0, "", 1));
        apply(new Command.CreateVolume("vm2", GIB, 3, "", 2));
        apply(new Command.AttachVolume("vm1", "w1"));
        assertThat(map().defaultCopies()).isEqualTo(2);
        assertThat(epoch()).isEqualTo(4);
        assertThat(map().copiesByVolumeId()).hasSize(2);
    }

    @Test
    void aStateImageKeepsTheStorageState() throws Exception {
        richState();

        ClusterState restored = roundTrip(state);

        assertThat(answers(restored)).isEqualTo(answers(state));
        assertThat(restored.image()).isEqualTo(state.image());
        assertThat(restored.image().storage()).isEqualTo(state.storage().image());

        long next = state.lastAppliedIndex() + 1;
        for (Command command : List.of(new Command.SetNodeMembership("w3", NodeMembership.DOWN, "lease expired"),
            new Command.SetNodeMembership("w3", NodeMembership.MEMBER, "heartbeat"),
            new Command.ReportStorageRecovered("w3", 6), new Command.ReportStorageRecovered("w3", 7),
            new Command.CreateVolume("vm3", GIB, 4, "", 3), new Command.RegisterStorage("w1", 50 * GIB))) {
            assertThat(restored.apply(next, command)).as(command.toString()).isEqualTo(state.apply(next, command));
            next++;
        }
        assertThat(answers(restored)).isEqualTo(answers(state));
        assertThat(storageMap(restored).current().epoch()).isEqualTo(6);
    }

    @Test
    void anImageWithoutStorageLoadsAsNone() throws Exception {
        richState();
        StateImage image = state.image();
        StateImage withoutStorage = new StateImage(image.formatVersion(), image.lastAppliedIndex(), image.clusterName(),
            image.restoring(), image.revision(), image.compactedRevision(), image.keys(), image.history(), image.nodes(),
            image.resourceConfiguration(), image.resourceConfigurationVersion(), image.nodeStatuses(), image.fencingHistory(),
            image.volumes(), null, image.removedNodesInLease());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Codec.writeImage(withoutStorage, out);
        StateImage read = Codec.readImage(new ByteArrayInputStream(out.toByteArray()));
        assertThat(read.storage()).isNull();

        ClusterState old = ClusterState.fromImage(read);
        QueryResult.StorageMap map = storageMap(old);
        assertThat(map.defaultCopies()).isEqualTo(1);
        assertThat(map.epochs()).isEmpty();
        assertThat(map.nodes()).isEmpty();
        assertThat(map.recoveredEpochs()).isEmpty();
        assertThat(old.image().storage()).isEqualTo(StorageImage.empty());

        assertApplied(old.apply(image.lastAppliedIndex() + 1, new Command.RegisterStorage("w1", GIB)));
        assertThat(storageMap(old).current().members()).as("w1 is a member").containsExactly(new StorageNode("w1", "rack-a", GIB));
    }

    @Test
    void theStorageCommandsQueryAndAnswerSurviveTheCodec() {
        richState();
        for (Command command : List.of(new Command.RegisterStorage("w1", 123 * GIB), new Command.SetStorageDefaults(2),
            new Command.ReportStorageRecovered("w2", 4), new Command.ReportStoreStall("w2", "an operation has waited 12 s"),
            new Command.ReportStoreStall("w2", ""))) {
            Command decoded = Codec.decodeCommand(Codec.encode(command));
            assertThat(decoded).isEqualTo(command);
            Outcome outcome = apply(decoded);
            assertThat(outcome).as(command.toString()).isInstanceOf(Outcome.Applied.class);
            assertThat(Codec.decodeOutcome(Codec.encode(outcome))).isEqualTo(outcome);
        }
        Outcome refused = apply(new Command.ReportStorageRecovered("w2", 99));
        assertThat(Codec.decodeOutcome(Codec.encode(refused))).isEqualTo(refused);

        Query query = new Query.StorageMap();
        assertThat(Codec.decodeQuery(Codec.encode(query))).isEqualTo(query);
        QueryResult result = state.query(query);
        QueryResult decoded = Codec.decodeQueryResult(Codec.encode(result));
        assertThat(decoded).isEqualTo(result);
        assertThat(((QueryResult.StorageMap) decoded).current().members()).hasSize(2);
        assertThat(((QueryResult.StorageMap) decoded).copiesByVolumeId()).isEqualTo(map().copiesByVolumeId());

        QueryResult empty = new ClusterState().query(query);
        assertThat(Codec.decodeQueryResult(Codec.encode(empty))).isEqualTo(empty);
    }
}
