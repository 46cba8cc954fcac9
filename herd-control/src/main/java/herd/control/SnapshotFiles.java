package herd.control;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;

/**
 * The snapshot files of the state machine directory, as Ratis keeps them, read from the directory
 * only when they may have changed: once at start, when a snapshot was installed from the leader
 * ({@link #loadLatestSnapshot}), and after this server wrote one ({@link #updateLatestSnapshot}).
 *
 * <ul>
 *   <li>Ratis asks for the latest snapshot twice in every AppendEntries a follower takes. Until a
 *       server has its first snapshot, Ratis' own storage answers "none" by listing the directory
 *       each time; this one remembers that there is none.</li>
 *   <li>Ratis asks for a clean-up of old snapshots after every {@code takeSnapshot}, also the many
 *       answered "none yet" while a snapshot is written in the background (see
 *       {@link ApplicationStateMachine#takeSnapshot}), and each lists the directory on the thread
 *       that applies entries; this one cleans up only after a snapshot was added.</li>
 * </ul>
 */
final class SnapshotFiles extends SimpleStateMachineStorage {
    /** Whether the directory was read since {@link #init}; until then the latest snapshot is not known. */
    private volatile boolean read;
    /** The latest snapshot known, once the directory was read; null: none. */
    private volatile SingleFileSnapshotInfo latest;
    /** Whether a snapshot was added since the last clean-up; true at first, for what a crash left. */
    private final AtomicBoolean added = new AtomicBoolean(true);

    @Override
    public SingleFileSnapshotInfo loadLatestSnapshot() {
        SingleFileSnapshotInfo loaded = super.loadLatestSnapshot();
        read = true;
        return loaded;
    }

    @Override
    public SingleFileSnapshotInfo getLatestSnapshot() {
        return read ? latest : loadLatestSnapshot();
    }

    @Override
    public synchronized SingleFileSnapshotInfo updateLatestSnapshot(SingleFileSnapshotInfo info) {
        SingleFileSnapshotInfo newest = super.updateLatestSnapshot(info);
        latest = newest;
        if (info != null) {
            added.set(true);
        }
        return newest;
    }

    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy retention) throws IOException {
        if (!added.getAndSet(false)) {
            return;
        }
        try {
            super.cleanupOldSnapshots(retention);
        } catch (IOException | RuntimeException e) {
            added.set(true); // try again at the next call
            throw e;
        }
    }
}
