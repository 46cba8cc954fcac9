package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.Done;
import herd.block.nbd.DeviceResult;
import herd.block.store.ObjectStore;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectIo;
import herd.block.volume.ObjectResult;
import herd.block.volume.VolumeDevice;
import herd.blockcore.ObjectId;
import herd.core.ClusterState;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.volume.InodeEntry;
import herd.server.config.NodeConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's copy-on-write over a real object store, with the cluster state applied in memory. */
class CopyOnWriteIoTest {
    private static final int OBJECT = ObjectId.OBJECT_SIZE_BYTES;

    @TempDir Path directory;
    private ObjectStore store;
    private final ClusterState state = new ClusterState();
    private final List<Command.SetInodeEntries> commits = new ArrayList<>();
    private long index;
    private boolean refuseCommits;

    @BeforeEach
    void open() throws Exception {
        store = ObjectStore.open(directory, 64L * OBJECT);
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private void apply(Command command) {
        assertThat(state.apply(++index, command)).as(command.toString()).isInstanceOf(Outcome.Applied.class);
    }

    private VolumeView view(String name) {
        return VolumeView.of((QueryResult.VolumeDetail) state.query(new Query.VolumeInfo(name)));
    }

    private CopyOnWriteIo io(String name) {
        return new CopyOnWriteIo(store, (volumeId, objectIndex) -> {
            if (refuseCommits) {
                return Optional.of("no leader");
            }
            Command.SetInodeEntries set = new Command.SetInodeEntries(volumeId, List.of(new InodeEntry(objectIndex, volumeId)));
            commits.add(set);
            Outcome outcome = state.apply(++index, set);
            return outcome instanceof Outcome.Rejected rejected ? Optional.of(rejected.rejection().message()) : Optional.empty();
        }, view(name));
    }

    private static ByteBuffer filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return ByteBuffer.wrap(bytes);
    }

    private static byte[] read(CopyOnWriteIo io, int objectIndex, int offset, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        ObjectResult<Done> result = io.read(ObjectId.of(12345, objectIndex), offset, buffer);
        if (result instanceof ObjectResult.Failed<Done>(ObjectError.NotFound absent)) {
            return new byte[length];
        }
        assertThat(result).isInstanceOf(ObjectResult.Ok.class);
        return buffer.array();
    }

    @Test
    void aDeletedSnapshotsReaderGetsAnErrorNotZerosForTheObjectsReclaimed() {
        apply(new Command.CreateVolume("vol", 4L * OBJECT, 1, "", 1));
        CopyOnWriteIo volume = io("vol");
        assertThat(volume.write(ObjectId.of(0, 1), 0, filled(4096, 0x5a))).isInstanceOf(ObjectResult.Ok.class);
        apply(new Command.SnapshotVolume("vol", "snap", "", 2));
        boolean[] snapshotExists = {true};
        CopyOnWriteIo reader = new CopyOnWriteIo(store, (volumeId, objectIndex) -> Optional.of("read-only"), view("snap"),
            view -> snapshotExists[0]);
        assertThat(read(reader, 1, 0, 4096)).containsOnly((byte) 0x5a);
        ObjectId named = ObjectId.of(view("snap").volumeId(), 1);

        assertThat(store.delete(named)).isInstanceOf(ObjectResult.Ok.class); // a trim emptied it: zeros are right
        assertThat(reader.read(ObjectId.of(0, 1), 0, ByteBuffer.allocate(4096)))
            .isEqualTo(ObjectResult.failed(new ObjectError.NotFound(named)));
        snapshotExists[0] = false; // deleted, and its objects reclaimed
        assertThat(reader.read(ObjectId.of(0, 1), 0, ByteBuffer.allocate(4096)))
            .isInstanceOfSatisfying(ObjectResult.Failed.class, failed -> assertThat(failed.error().describe())
                .contains("snapshot 'snap' names this object but no copy holds it"));
        assertThat(read(reader, 2, 0, 4096)).as("a hole reads as zeros all the same").containsOnly((byte) 0);
    }

    @Test
    void theFirstWriteCopiesTheSnapshotsObjectAndCommitsOnce() {
        apply(new Command.CreateVolume("vol", 4L * OBJECT, 1, "", 1));
        CopyOnWriteIo volume = io("vol");
        assertThat(volume.write(ObjectId.of(0, 1), 0, filled(8192, 0xab))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(commits).hasSize(1);
        apply(new Command.SnapshotVolume("vol", "snap", "", 2));

        CopyOnWriteIo continued = io("vol");
        assertThat(continued.write(ObjectId.of(0, 1), 4096, filled(100, 0xcd))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(continued.write(ObjectId.of(0, 1), 4196, filled(100, 0xce))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(commits).as("one commit per new object").hasSize(2);

        byte[] now = read(continued, 1, 0, 8192);
        assertThat(now[0]).isEqualTo((byte) 0xab);
        assertThat(now[4096]).isEqualTo((byte) 0xcd);
        assertThat(now[4196]).isEqualTo((byte) 0xce);
        assertThat(now[4400]).as("copied from the snapshot").isEqualTo((byte) 0xab);
        byte[] frozen = read(io("snap"), 1, 0, 8192);
        assertThat(frozen).containsOnly((byte) 0xab);
        assertThat(read(continued, 2, 0, 16)).containsOnly((byte) 0);
    }

    @Test
    void aRefusedCommitFailsTheWriteAndTheNextWriteTriesAgain() {
        apply(new Command.CreateVolume("vol", 2L * OBJECT, 1, "", 1));
        CopyOnWriteIo volume = io("vol");
        refuseCommits = true;
        ObjectResult<Done> refused = volume.write(ObjectId.of(0, 0), 0, filled(512, 1));
        assertThat(refused).isInstanceOfSatisfying(ObjectResult.Failed.class,
            failed -> assertThat(failed.error().describe()).contains("cannot record the new object").contains("no leader"));
        assertThat(volume.view().ownsIndex(0)).isFalse();
        refuseCommits = false;
        assertThat(volume.write(ObjectId.of(0, 0), 0, filled(512, 2))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(volume.view().ownsIndex(0)).isTrue();
    }

    @Test
    void aSnapshotIsReadOnlyAndADetachedViewRefusesEverything() throws Exception {
        apply(new Command.CreateVolume("vol", 2L * OBJECT, 1, "", 1));
        apply(new Command.SnapshotVolume("vol", "snap", "", 2));
        assertThat(io("snap").write(ObjectId.of(0, 0), 0, filled(512, 1))).isInstanceOf(ObjectResult.Failed.class);
        CopyOnWriteIo volume = io("vol");
        volume.whilePaused(() -> null, () -> volume.view().closed());
        ObjectResult<Done> read = volume.read(ObjectId.of(0, 0), 0, ByteBuffer.allocate(512));
        assertThat(read).isInstanceOfSatisfying(ObjectResult.Failed.class,
            failed -> assertThat(failed.error().describe()).contains("detached from this node"));
    }

    @Test
    void aFlushOnADeviceOpenedAfterASnapshotSyncsWhatAnOlderConnectionWrote() throws Exception {
        apply(new Command.CreateVolume("vol", 2L * OBJECT, 1, "", 1));
        List<ObjectId> synced = new ArrayList<>();
        CopyOnWriteIo volume = new CopyOnWriteIo(syncRecording(synced), (volumeId, objectIndex) -> {
            Outcome outcome = state.apply(++index, new Command.SetInodeEntries(volumeId,
                List.of(new InodeEntry(objectIndex, volumeId))));
            return outcome instanceof Outcome.Rejected rejected ? Optional.of(rejected.rejection().message()) : Optional.empty();
        }, view("vol"));
        VolumeDevice before = new VolumeDevice("vol", 2L * OBJECT, volume.view().volumeId(), volume);
        volume.whilePaused(() -> {
            apply(new Command.SnapshotVolume("vol", "snap", "", 2));
            return null;
        }, () -> view("vol"));
        VolumeDevice after = new VolumeDevice("vol", 2L * OBJECT, volume.view().volumeId(), volume);
        // the first write to the index copies and syncs its object by itself; the second does not
        assertThat(before.write(OBJECT, filled(4096, 6), false)).isInstanceOf(DeviceResult.Ok.class);
        synced.clear();

        // a connection opened before the snapshot writes; one opened after it flushes
        assertThat(before.write(OBJECT, filled(4096, 7), false)).isInstanceOf(DeviceResult.Ok.class);
        assertThat(synced).isEmpty();
        assertThat(after.flush()).isInstanceOf(DeviceResult.Ok.class);
        assertThat(synced).containsExactly(ObjectId.of(volume.view().volumeId(), 1));
    }

    /** The store, with the objects each flush asks it to sync added to {@code synced}. */
    @SuppressWarnings("unchecked")
    private ObjectIo syncRecording(List<ObjectId> synced) {
        return (ObjectIo) java.lang.reflect.Proxy.newProxyInstance(ObjectIo.class.getClassLoader(),
            new Class<?>[] {ObjectIo.class}, (proxy, method, args) -> {
                if (method.getName().equals("flush")) {
                    synced.addAll((Collection<ObjectId>) args[0]);
                }
                return method.invoke(store, args);
            });
    }

    @Test
    void sizesAndSettings() {
        assertThat(Sizes.parse("10G", "size")).isEqualTo(10L << 30);
        assertThat(Sizes.parse("512", "size")).isEqualTo(512);
        assertThat(Sizes.format(64L << 20)).isEqualTo("64M");
        assertThat(Sizes.format(1536)).isEqualTo("1.5K");
        assertThatThrownBy(() -> Sizes.parse("ten", "size")).hasMessageContaining("like 10G");
        NodeConfig config = new NodeConfig("s1", NodeConfig.SERVER, "c", "10.0.0.1:7100", "10.0.0.1:7101", "s1", "g", true,
            Map.of(), List.of(), null, null, 0, 0, 0);
        assertThat(StorageSettings.of(config, Map.of()).nbdAddress()).as("loopback, whatever the API's host")
            .isEqualTo("127.0.0.1:10809");
        assertThat(StorageSettings.of(config.withNbdAddress("127.0.0.1:9999"), Map.of("HERD_STORAGE_CAPACITY", "1G")))
            .isEqualTo(new StorageSettings("127.0.0.1:9999", true, java.util.OptionalLong.of(1L << 30),
                StorageSettings.DEFAULT_RECOVERY_BYTES_PER_SECOND, "10.0.0.1:0", StorageSettings.DEFAULT_SCRUB_INTERVAL,
                StorageSettings.DEFAULT_SCRUB_BYTES_PER_SECOND, null));
        assertThat(StorageSettings.of(config, Map.of("HERD_OBJECT_CHANNEL_PORT", "7105")).channelAddress())
            .isEqualTo("10.0.0.1:7105");
        assertThatThrownBy(() -> StorageSettings.of(config, Map.of("HERD_STORAGE_CAPACITY", "0"))).hasMessageContaining("no room");
        assertThatThrownBy(() -> StorageSettings.of(config, Map.of("HERD_OBJECT_CHANNEL_PORT", "70000")))
            .hasMessageContaining("is not a port");
        StorageSettings scrub = StorageSettings.of(config, Map.of("HERD_SCRUB_INTERVAL", "12h", "HERD_SCRUB_RATE", "50M"));
        assertThat(scrub.scrubInterval()).isEqualTo(java.time.Duration.ofHours(12));
        assertThat(scrub.scrubBytesPerSecond()).isEqualTo(50L << 20);
        assertThat(StorageSettings.of(config, Map.of("HERD_SCRUB_INTERVAL", "off")).scrubInterval()).isZero();
        assertThatThrownBy(() -> StorageSettings.of(config, Map.of("HERD_SCRUB_INTERVAL", "weekly")))
            .hasMessage("HERD_SCRUB_INTERVAL=weekly is not a time between scrub passes: give one like 7d or 12h, or off for no scrub");
        assertThatThrownBy(() -> StorageSettings.of(config, Map.of("HERD_SCRUB_INTERVAL", "0s")))
            .hasMessageContaining("is not a time between scrub passes");
        assertThatThrownBy(() -> StorageSettings.of(config, Map.of("HERD_SCRUB_RATE", "0")))
            .hasMessageContaining("would stop the scrub");
        assertThat(StorageSettings.of(config, Map.of()).nbdSocket()).as("no socket unless one is given").isNull();
        assertThat(StorageSettings.of(config.withNbdSocket("/run/herd/nbd.sock"), Map.of()).nbdSocket())
            .isEqualTo("/run/herd/nbd.sock");
        assertThat(StorageSettings.nbdSocketProblem("/run/herd/nbd.sock")).isEmpty();
        assertThat(StorageSettings.nbdSocketProblem("run/nbd.sock")).contains(
            "the NBD socket 'run/nbd.sock' is not an absolute path: give one like /run/herd/nbd.sock");
        assertThat(StorageSettings.nbdSocketProblem("/" + "x".repeat(107))).contains("the NBD socket /" + "x".repeat(107)
            + ": its path has 108 bytes and a Unix socket's may have at most 107: choose a shorter one");
    }
}
