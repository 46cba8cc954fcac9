package herd.core.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
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
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Volumes as part of the cluster state: commands, refusals, queries and snapshots of the state. */
class VolumeStateTest {
    private static final long GIB = 1L << 30;
    private static final int OBJECT_BYTES = 4 * 1024 * 1024;

    private final ClusterState state = new ClusterState();
    private long index;

    private Outcome apply(Command command) {
        return state.apply(++index, command);
    }

    /** The nodes the tests attach volumes to: the cluster knows them. */
    @BeforeEach
    void registerNodes() {
        int port = 7100;
        for (String node : List.of("s1", "s2", "n1", "n2", "n3")) {
            assertThat(apply(new Command.RegisterNode(new NodeInfo(node, NodeInfo.Role.WORKER, "127.0.0.1:" + port++, null,
                null)))).isInstanceOf(Outcome.Applied.class);
        }
    }

    private QueryResult.VolumeDetail info(String name) {
        return (QueryResult.VolumeDetail) state.query(new Query.VolumeInfo(name));
    }

    private static Rejection rejection(Outcome outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        return ((Outcome.Rejected) outcome).rejection();
    }

    @Test
    void createSnapshotCloneAndFirstWritesShowInTheQueries() {
        assertThat(apply(new Command.CreateVolume("vm1", 10 * GIB, 1, "web", 1000))).isInstanceOf(Outcome.Applied.class);
        int firstId = info("vm1").row().volume().id();
        assertThat(apply(new Command.SetInodeEntries(firstId, List.of(new InodeEntry(0, firstId), new InodeEntry(3, firstId)))))
            .isInstanceOf(Outcome.Applied.class);
        assertThat(apply(new Command.SnapshotVolume("vm1", "vm1.monday", "daily", 2000))).isInstanceOf(Outcome.Applied.class);
        assertThat(apply(new Command.CloneVolume("vm1.monday", "vm2", 3000))).isInstanceOf(Outcome.Applied.class);

        QueryResult.VolumeDetail snapshot = info("vm1.monday");
        assertThat(snapshot.row().volume().id()).isEqualTo(firstId);
        assertThat(snapshot.row().volume().isSnapshot()).isTrue();
        assertThat(snapshot.inodeEntries()).isEqualTo(2);
        assertThat(snapshot.row().usedBytes()).isEqualTo(2L * OBJECT_BYTES);

        QueryResult.VolumeDetail volume = info("vm1");
        assertThat(volume.row().volume().id()).isNotEqualTo(firstId);
        assertThat(volume.row().volume().parentId()).isEqualTo(firstId);
        assertThat(volume.chain()).extracting(VolumeRecord::name).containsExactly("vm1", "vm1.monday");
        assertThat(volume.chainInodes().get(1).indexes()).containsExactly(0, 3);
        assertThat(volume.row().usedBytes()).isZero();
        assertThat(volume.row().sharedBytes()).isEqualTo(2L * OBJECT_BYTES);

        QueryResult.VolumeList list = (QueryResult.VolumeList) state.query(new Query.Volumes());
        assertThat(list.volumes()).extracting(row -> row.volume().name()).containsExactly("vm1", "vm1.monday", "vm2");
        QueryResult.VolumeForest tree = (QueryResult.VolumeForest) state.query(new Query.VolumeTree());
        assertThat(tree.roots()).singleElement().satisfies(root -> {
            assertThat(root.volume().name()).isEqualTo("vm1.monday");
            assertThat(root.children()).extracting(child -> child.volume().name()).containsExactly("vm1", "vm2");
        });
    }

    @Test
    void aDroppedEntrysInodeGoesWithItAndItsObjectsAreReclaimableByOwner() {
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1000));
        apply(new Command.CreateVolume("scratch", GIB, 1, "", 1000));
        int vm1 = info("vm1").row().volume().id();
        int scratch = info("scratch").row().volume().id();
        apply(new Command.SetInodeEntries(vm1, List.of(new InodeEntry(0, vm1))));
        apply(new Command.SetInodeEntries(scratch, List.of(new InodeEntry(0, scratch), new InodeEntry(1, scratch))));

        apply(new Command.DeleteVolume("scratch"));

        assertThat(state.image().volumes().inodes()).extracting(herd.core.volume.InodeRecord::volumeId).containsExactly(vm1);
        QueryResult.Reclaimable reclaimable = (QueryResult.Reclaimable) state.query(new Query.ReclaimableObjects());
        assertThat(reclaimable.includes(ObjectId.of(scratch, 1))).isTrue();
        assertThat(reclaimable.includes(ObjectId.of(vm1, 0))).isFalse();
        assertThat(reclaimable.includes(ObjectId.of(scratch + 100, 0)))
            .as("an id not issued yet: a volume this node's state has not seen created").isFalse();
        assertThat(state.query(new Query.ReclaimableObjects())).isEqualTo(
            Codec.decodeQueryResult(Codec.encode(reclaimable)));
    }

    @Test
    void badInputIsRefusedWithAMessageAndChangesNothing() {
        Rejection moreThanZones = rejection(apply(new Command.CreateVolume("vm1", GIB, 2, "", 1)));
        assertThat(moreThanZones.code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(moreThanZones.message()).contains("2 copies asked for volume 'vm1'").contains("span 0 zone(s)")
            .contains("add storage nodes in other zones");
        assertThat(rejection(apply(new Command.CreateVolume("vm1", GIB, 9, "", 1))).message()).contains("give 1 to 8");
        assertThat(rejection(apply(new Command.CreateVolume("vm1", GIB, -1, "", 1))).code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(rejection(apply(new Command.CreateVolume("vm1", 0, 1, "", 1))).message()).contains("size 0 bytes is not valid");
        assertThat(rejection(apply(new Command.CreateVolume("bad name", GIB, 1, "", 1))).code()).isEqualTo(ErrorCode.BAD_REQUEST);
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1));
        Rejection duplicate = rejection(apply(new Command.CreateVolume("vm1", GIB, 1, "", 1)));
        assertThat(duplicate.message()).contains("'vm1' is taken");
        assertThat(rejection(apply(new Command.DeleteVolume("nope"))).code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(((QueryResult.VolumeList) state.query(new Query.Volumes())).volumes()).hasSize(1);
        assertThat(state.query(new Query.VolumeInfo("nope"))).isInstanceOf(QueryResult.Refused.class);
    }

    @Test
    void anAttachedVolumeHasOneWriter() {
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1));
        assertThat(apply(new Command.AttachVolume("vm1", "s1"))).isInstanceOf(Outcome.Applied.class);
        assertThat(rejection(apply(new Command.AttachVolume("vm1", "s2"))).message()).contains("attached to node 's1'");
        assertThat(rejection(apply(new Command.DeleteVolume("vm1"))).message()).contains("detach it first");
        assertThat(apply(new Command.DetachVolume("vm1"))).isInstanceOf(Outcome.Applied.class);
        assertThat(apply(new Command.DeleteVolume("vm1"))).isInstanceOf(Outcome.Applied.class);
    }

    /**
     * A volume attached to a node the cluster does not know could be neither detached through it nor
     * released by fencing it: a removed node that still runs may not attach again.
     */
    @Test
    void onlyANodeOfTheClusterAttachesAndARemovedOnesAttachmentIsReleased() {
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1));
        assertThat(apply(new Command.AttachVolume("vm1", "n1"))).isInstanceOf(Outcome.Applied.class);
        assertThat(apply(new Command.RemoveNode("n1"))).isInstanceOf(Outcome.Applied.class);
        assertThat(info("vm1").row().volume().attachedNode()).as("released with the node").isNull();

        Rejection removed = rejection(apply(new Command.AttachVolume("vm1", "n1")));
        assertThat(removed.code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(removed.message()).contains("there is no node 'n1'");
        assertThat(rejection(apply(new Command.AttachVolume("vm1", "nobody"))).code()).isEqualTo(ErrorCode.NODE_NOT_FOUND);
        assertThat(info("vm1").row().volume().attachedNode()).as("nothing changed").isNull();
        assertThat(apply(new Command.AttachVolume("vm1", "n2"))).isInstanceOf(Outcome.Applied.class);
    }

    @Test
    void inodeEntriesAreRefusedForSnapshotsAndIndexesOutsideTheVolume() {
        apply(new Command.CreateVolume("vm1", 2L * OBJECT_BYTES, 1, "", 1));
        int firstId = info("vm1").row().volume().id();
        assertThat(rejection(apply(new Command.SetInodeEntries(firstId, List.of(new InodeEntry(0, firstId),
            new InodeEntry(2, firstId))))).message()).contains("does not fit");
        assertThat(info("vm1").inodeEntries()).as("nothing half-applied").isZero();
        assertThat(rejection(apply(new Command.SetInodeEntries(firstId, List.of(new InodeEntry(0, 999))))).message())
            .contains("owner must be");
        assertThat(rejection(apply(new Command.SetInodeEntries(firstId, List.of()))).code()).isEqualTo(ErrorCode.BAD_REQUEST);
        apply(new Command.SnapshotVolume("vm1", "snap", "", 2));
        assertThat(rejection(apply(new Command.SetInodeEntries(firstId, List.of(new InodeEntry(0, firstId))))).message())
            .contains("read-only snapshot 'snap'");
    }

    /**
     * A snapshot says which node served the volume when it was asked for: a node that attached the
     * volume meanwhile would go on writing under the id the snapshot takes over, so it is refused.
     */
    @Test
    void aSnapshotIsRefusedWhenTheVolumesAttachmentChangedSinceItWasAskedFor() {
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1));
        apply(new Command.AttachVolume("vm1", "n2"));
        Rejection attachedMeanwhile = rejection(apply(new Command.SnapshotVolume("vm1", "s", "", 2, "")));
        assertThat(attachedMeanwhile.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(attachedMeanwhile.message()).contains("was attached to node n2 while the snapshot was being taken")
            .contains("through node n2's API");
        assertThat(rejection(apply(new Command.SnapshotVolume("vm1", "s", "", 2, "n1"))).message())
            .contains("was attached to node n2 while the snapshot was being taken on node n1");
        assertThat(state.query(new Query.VolumeInfo("s"))).as("nothing changed").isInstanceOf(QueryResult.Refused.class);

        assertThat(apply(new Command.SnapshotVolume("vm1", "s", "", 2, "n2"))).isInstanceOf(Outcome.Applied.class);
        apply(new Command.DetachVolume("vm1"));
        assertThat(rejection(apply(new Command.SnapshotVolume("vm1", "s2", "", 3, "n2"))).message())
            .contains("was attached to no node while the snapshot was being taken on node n2");
        assertThat(apply(new Command.SnapshotVolume("vm1", "s2", "", 3, ""))).isInstanceOf(Outcome.Applied.class);
        apply(new Command.AttachVolume("vm1", "n3"));
        assertThat(apply(new Command.SnapshotVolume("vm1", "s3", "", 4))).as("logged by an earlier build: unchecked")
            .isInstanceOf(Outcome.Applied.class);
        String loggedBefore = "{\"command\":\"snapshot-volume\",\"volume\":\"vm1\",\"snapshot\":\"s4\",\"tag\":\"\","
            + "\"createdMillis\":5}";
        Command logged = Codec.decodeCommand(loggedBefore.getBytes(StandardCharsets.UTF_8));
        assertThat(logged).isEqualTo(new Command.SnapshotVolume("vm1", "s4", "", 5));
    }

    @Test
    void commandsAndAnswersSurviveTheCodec() {
        List<Command> commands = List.of(new Command.CreateVolume("vm1", GIB, 1, "t", 5), new Command.ResizeVolume("vm1", 2 * GIB),
            new Command.SnapshotVolume("vm1", "s", "t", 6, ""), new Command.CloneVolume("s", "vm2", 7),
            new Command.RollbackVolume("vm1", "s"), new Command.AttachVolume("vm2", "n1"), new Command.DetachVolume("vm2"),
            new Command.SetInodeEntries(3, List.of(new InodeEntry(1, 3))), new Command.DeleteVolume("vm2"));
        for (Command command : commands) {
            assertThat(Codec.decodeCommand(Codec.encode(command))).isEqualTo(command);
            assertThat(apply(Codec.decodeCommand(Codec.encode(command)))).as(command.toString()).isInstanceOf(Outcome.Applied.class);
        }
        QueryResult detail = state.query(new Query.VolumeInfo("vm1"));
        assertThat(Codec.decodeQueryResult(Codec.encode(detail))).isEqualTo(detail);
        QueryResult tree = state.query(new Query.VolumeTree());
        assertThat(Codec.decodeQueryResult(Codec.encode(tree))).isEqualTo(tree);
    }

    @Test
    void aStateImageKeepsTheVolumesAndAnOldImageLoadsWithoutThem() throws Exception {
        apply(new Command.CreateVolume("vm1", GIB, 1, "", 1));
        int id = info("vm1").row().volume().id();
        apply(new Command.SetInodeEntries(id, List.of(new InodeEntry(5, id))));
        apply(new Command.SnapshotVolume("vm1", "snap", "", 2));
        apply(new Command.AttachVolume("vm1", "s1"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Codec.writeImage(state.image(), out);
        ClusterState restored = ClusterState.fromImage(Codec.readImage(new ByteArrayInputStream(out.toByteArray())));
        assertThat(restored.query(new Query.VolumeInfo("vm1"))).isEqualTo(info("vm1"));
        assertThat(restored.query(new Query.Volumes())).isEqualTo(state.query(new Query.Volumes()));
        assertThat(restored.image()).isEqualTo(state.image());

        String withoutVolumes = out.toString(StandardCharsets.UTF_8).replaceAll(",\"volumes\":\\{.*$", "}"); // and all that came later
        StateImage old = Codec.readImage(new ByteArrayInputStream(withoutVolumes.getBytes(StandardCharsets.UTF_8)));
        assertThat(old.volumes()).isNull();
        ClusterState fromOld = ClusterState.fromImage(old);
        assertThat(((QueryResult.VolumeList) fromOld.query(new Query.Volumes())).volumes()).isEmpty();
        assertThat(fromOld.apply(old.lastAppliedIndex() + 1, new Command.CreateVolume("vm1", GIB, 1, "", 1)))
            .isInstanceOf(Outcome.Applied.class);
    }
}
