package herd.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SnapshotFiles} on a real Ratis storage directory. */
class SnapshotFilesTest {
    private static final SnapshotRetentionPolicy KEEP_TWO = new SnapshotRetentionPolicy() {
        @Override
        public int getNumSnapshotsRetained() {
            return 2;
        }
    };

    @TempDir Path dir;
    private RaftStorage raftStorage;
    private final SnapshotFiles files = new SnapshotFiles();

    @BeforeEach
    void open() throws IOException {
        raftStorage = RaftStorage.newBuilder().setDirectory(dir.toFile())
                .setOption(RaftStorage.StartupOption.FORMAT).setStorageFreeSpaceMin(SizeInBytes.ONE_KB).build();
        raftStorage.initialize();
        files.init(raftStorage);
    }

    @AfterEach
    void close() throws IOException {
        raftStorage.close();
    }

    @Test
    void theDirectoryIsReadAtStartAndWhenASnapshotIsInstalledNotAtEveryQuestion() throws IOException {
        assertThat(files.getLatestSnapshot()).as("a new server has no snapshot").isNull();

        snapshotFile(10); // as if copied in by an installation from the leader
        assertThat(files.getLatestSnapshot()).as("not read again for every question").isNull();
        assertThat(files.loadLatestSnapshot().getIndex()).isEqualTo(10);
        assertThat(files.getLatestSnapshot().getIndex()).isEqualTo(10);

        files.updateLatestSnapshot(snapshotFile(20)); // written by this server
        assertThat(files.getLatestSnapshot().getIndex()).isEqualTo(20);
    }

    @Test
    void oldSnapshotsAreRemovedOnlyOnceANewOneWasAdded() throws IOException {
        snapshotFile(10);
        snapshotFile(20);
        snapshotFile(30);
        files.loadLatestSnapshot();
        files.cleanupOldSnapshots(KEEP_TWO);
        assertThat(snapshotNames()).containsExactlyInAnyOrder("snapshot.1_20", "snapshot.1_30");

        SingleFileSnapshotInfo unannounced = snapshotFile(40); // as if written, not yet added
        files.cleanupOldSnapshots(KEEP_TWO);
        assertThat(snapshotNames()).as("nothing was added: the directory is left alone")
                .containsExactlyInAnyOrder("snapshot.1_20", "snapshot.1_30", "snapshot.1_40");

        files.updateLatestSnapshot(unannounced);
        files.cleanupOldSnapshots(KEEP_TWO);
        assertThat(snapshotNames()).containsExactlyInAnyOrder("snapshot.1_30", "snapshot.1_40");
        assertThat(files.getLatestSnapshot().getIndex()).isEqualTo(40);
    }

    private SingleFileSnapshotInfo snapshotFile(long index) throws IOException {
        File file = files.getSnapshotFile(1, index);
        Files.writeString(file.toPath(), "state at " + index);
        MD5Hash digest = MD5FileUtil.computeMd5ForFile(file);
        MD5FileUtil.saveMD5File(file, digest);
        return new SingleFileSnapshotInfo(new FileInfo(file.toPath(), digest), TermIndex.valueOf(1, index));
    }

    private java.util.List<String> snapshotNames() throws IOException {
        try (Stream<Path> listed = Files.list(files.getSnapshotFile(1, 1).toPath().getParent())) {
            return listed.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".md5")).toList();
        }
    }
}
