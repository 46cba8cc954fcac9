package herd.control;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adapts a {@link ReplicatedApplication} to Ratis: committed entries go to {@code apply}, queries to
 * {@code query}, and snapshots are single files in the state machine directory that Ratis names
 * {@code snapshot.TERM_INDEX}. Ratis' default snapshot installation copies exactly these files
 * from the leader to a follower whose log was purged, then calls {@link #reinitialize()}.
 */
final class ApplicationStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ApplicationStateMachine.class);
    /** What {@link #takeSnapshot} returns when no new snapshot is durable yet. */
    private static final long NO_SNAPSHOT = -1;

    private final ReplicatedApplication application;
    private final String nodeName;
    private final SnapshotFiles storage = new SnapshotFiles();
    private final Runnable onEvent;
    /** Writes snapshots, one at a time, off Ratis' apply thread (see {@link #takeSnapshot}). */
    private final ExecutorService snapshotWriter;
    private final Object snapshotLock = new Object();
    /** The snapshot being written, or written and not yet reported to Ratis; null when none. Guarded by snapshotLock. */
    private Future<WrittenSnapshot> snapshotInProgress;
    /** Index of the snapshot Ratis last learned of (reported, loaded or installed); -1 for none. Guarded by snapshotLock. */
    private long reportedSnapshotIndex = NO_SNAPSHOT;
    /** Size of the newest snapshot file (written, loaded or installed); 0 for none. Guarded by snapshotLock. */
    private long latestSnapshotBytes;
    /** Bytes of the commands applied since the state of the newest snapshot was copied. Guarded by snapshotLock. */
    private long appliedBytesSinceSnapshot;
    /** Of those, the bytes the snapshot in progress covers; they stop counting once it is durable. Guarded by snapshotLock. */
    private long appliedBytesInProgress;

    /** @param onEvent called after a leader change so the node can re-evaluate its role at once */
    ApplicationStateMachine(ReplicatedApplication application, String nodeName, Runnable onEvent) {
        this.application = application;
        this.nodeName = nodeName;
        this.onEvent = onEvent;
        this.snapshotWriter = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("snapshot-writer-" + nodeName).factory());
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        getLifeCycle().transition(LifeCycle.State.STARTING);
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        loadLatestSnapshot();
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** Ratis pauses the state machine before it installs a snapshot from the leader. */
    @Override
    public void pause() {
        settleSnapshotInProgress();
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /** Called after a snapshot was installed from the leader: the files on disk are the new truth. */
    @Override
    public void reinitialize() throws IOException {
        loadLatestSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public SingleFileSnapshotInfo getLatestSnapshot() {
        return storage.getLatestSnapshot();
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
        final LogEntryProto entry = transaction.getLogEntry();
        final byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
        final byte[] reply = applyEntry(entry.getIndex(), data);
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        synchronized (snapshotLock) {
            appliedBytesSinceSnapshot += data.length;
        }
        return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(reply)));
    }

    /** One command, or each command of a batch in order (see {@link CommandBatch}). */
    private byte[] applyEntry(long logIndex, byte[] data) {
        final List<byte[]> commands;
        try {
            commands = CommandBatch.isBatch(data) ? CommandBatch.decode(data) : null;
        } catch (IllegalArgumentException e) {
            // Damaged: handed over whole, so the application rejects it the same way on every server.
            return application.apply(LogPosition.of(logIndex, 0), data);
        }
        if (commands == null) {
            return application.apply(LogPosition.of(logIndex, 0), data);
        }
        final List<byte[]> replies = new ArrayList<>(commands.size());
        for (int place = 0; place < commands.size(); place++) {
            replies.add(application.apply(LogPosition.of(logIndex, place), commands.get(place)));
        }
        return CommandBatch.encodeReplies(replies);
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        final byte[] content = request.getContent().toByteArray();
        try {
            final byte[] answer = CommandBatch.isBatch(content) ? queryBatch(CommandBatch.decode(content))
                    : application.query(content);
            return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(answer)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Answers each query of a batch on its own: one that fails does not fail the others. */
    private byte[] queryBatch(List<byte[]> queries) {
        final List<byte[]> parts = new ArrayList<>(queries.size());
        for (byte[] query : queries) {
            try {
                parts.add(CommandBatch.answered(application.query(query)));
            } catch (RuntimeException e) {
                parts.add(CommandBatch.failed(e.getMessage()));
            }
        }
        return CommandBatch.encodeReplies(parts);
    }

    /** Answers a query from this server's own state, without asking anyone. */
    byte[] queryLocal(byte[] query) {
        return application.query(query);
    }

    /**
     * Called by Ratis on its apply thread once enough entries were applied since the last snapshot;
     * a new one is started only when enough bytes were logged too ({@link #snapshotDue}). Takes a copy of the state here (entries wait only for that) and writes it on the snapshot
     * thread: serialising, syncing and digesting a state of 100 MB takes seconds, and every server
     * reaches the threshold at the same entry, so writing here would hold up every write to the
     * cluster that long. Returns -1 ("none yet") until the file is durable, then its index, after
     * which Ratis purges the log up to it; Ratis asks again after each batch of entries meanwhile.
     */
    @Override
    public long takeSnapshot() throws IOException {
        synchronized (snapshotLock) {
            if (snapshotInProgress != null) {
                return snapshotInProgress.isDone() ? reportWrittenSnapshot() : NO_SNAPSHOT;
            }
            final TermIndex applied = getLastAppliedTermIndex();
            if (applied == null || applied.getIndex() <= reportedSnapshotIndex
                    || !snapshotDue(appliedBytesSinceSnapshot, latestSnapshotBytes)) {
                return NO_SNAPSHOT;
            }
            appliedBytesInProgress = appliedBytesSinceSnapshot;
            final long captureStart = System.nanoTime();
            final ReplicatedApplication.Snapshot copy = application.captureSnapshot();
            final long captureMillis = (System.nanoTime() - captureStart) / 1_000_000;
            snapshotInProgress = snapshotWriter.submit(() -> writeSnapshotFile(copy, applied, captureMillis));
            return NO_SNAPSHOT;
        }
    }

    /**
     * Whether enough has been logged since the last snapshot to write a new one, once Ratis' entry
     * threshold is reached: at least as many bytes of commands as that snapshot holds (always, when
     * there is none). A snapshot writes the whole state, so with a count of entries alone its cost
     * per write would grow with the state: a state of 500 MB changed by small writes would be
     * written whole every 10,000 of them. This way each byte logged costs at most about a byte of
     * snapshot, and a restart replays at most about a snapshot's worth of log after loading it.
     */
    private static boolean snapshotDue(long appliedBytesSinceSnapshot, long latestSnapshotBytes) {
        return appliedBytesSinceSnapshot >= latestSnapshotBytes;
    }

    /** The finished write's index for Ratis, or its failure; forgets it either way. */
    private long reportWrittenSnapshot() throws IOException {
        try {
            final WrittenSnapshot written = snapshotInProgress.get();
            if (written.index() <= reportedSnapshotIndex) {
                return NO_SNAPSHOT; // a newer one was installed from the leader meanwhile
            }
            reportedSnapshotIndex = written.index();
            latestSnapshotBytes = written.bytes();
            appliedBytesSinceSnapshot -= appliedBytesInProgress;
            return written.index();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException("writing the snapshot failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while collecting the snapshot written", e);
        } finally {
            snapshotInProgress = null;
        }
    }

    /** A snapshot file made durable: the log index it holds the state at, and its size. */
    private record WrittenSnapshot(long index, long bytes) {}

    /**
     * Writes the copy to a temporary file, fsyncs it, renames it into place and fsyncs the
     * directory, so a crash leaves either the previous snapshot or the complete new one.
     */
    private WrittenSnapshot writeSnapshotFile(ReplicatedApplication.Snapshot copy, TermIndex applied, long captureMillis)
            throws IOException {
        final long startNanos = System.nanoTime();
        final File target = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        final Path directory = target.toPath().getParent();
        final Path temporary = directory.resolve("writing-" + target.getName());
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            final OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
            copy.writeTo(out);
            out.flush();
            channel.force(true);
        }
        Files.move(temporary, target.toPath(), StandardCopyOption.ATOMIC_MOVE);
        final MD5Hash digest = MD5FileUtil.computeMd5ForFile(target);
        MD5FileUtil.saveMD5File(target, digest);
        fsync(MD5FileUtil.getDigestFileForFile(target).toPath());
        fsyncDirectory(directory);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target.toPath(), digest), applied));
        LOG.info("{}: snapshot written at term {} index {} ({} bytes; copy taken in {} ms, written in {} ms)",
                nodeName, applied.getTerm(), applied.getIndex(), target.length(), captureMillis,
                (System.nanoTime() - startNanos) / 1_000_000);
        return new WrittenSnapshot(applied.getIndex(), target.length());
    }

    /**
     * Waits for a snapshot being written and forgets it, before the state is replaced by an
     * installed one (its index may then be behind) or the server stops.
     */
    private void settleSnapshotInProgress() {
        synchronized (snapshotLock) {
            if (snapshotInProgress == null) {
                return;
            }
            try {
                snapshotInProgress.get();
            } catch (ExecutionException e) {
                LOG.warn("{}: writing a snapshot failed: {}", nodeName, e.getCause().toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                snapshotInProgress = null;
            }
        }
    }

    @Override
    public void close() throws IOException {
        settleSnapshotInProgress();
        snapshotWriter.shutdown();
        super.close();
    }

    private void loadLatestSnapshot() throws IOException {
        final SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
        if (snapshot == null) {
            return;
        }
        final Path file = snapshot.getFile().getPath();
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file.toFile(), snapshot.getFile().getFileDigest());
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
            application.readSnapshot(in);
        }
        setLastAppliedTermIndex(snapshot.getTermIndex());
        synchronized (snapshotLock) {
            reportedSnapshotIndex = snapshot.getIndex();
            latestSnapshotBytes = Files.size(file);
            appliedBytesSinceSnapshot = 0;
        }
        LOG.info("{}: loaded snapshot at term {} index {}", nodeName, snapshot.getTerm(), snapshot.getIndex());
    }

    @Override
    public void notifyLeaderChanged(org.apache.ratis.protocol.RaftGroupMemberId member,
                                    org.apache.ratis.protocol.RaftPeerId newLeader) {
        onEvent.run();
    }

    @Override
    public void notifyLeaderReady() {
        onEvent.run();
    }

    private static void fsync(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
