package herd.server.state;

import herd.control.ReplicatedApplication;
import herd.core.ClusterState;
import herd.core.StateImage;
import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Gives the control plane's opaque entries their meaning: decodes commands and queries and runs them
 * against the {@link ClusterState}. Queries may run on API threads while the Raft thread applies, so
 * access goes through a read-write lock; watchers are woken through {@link #appliedSignal()}.
 */
public final class ClusterStateApplication implements ReplicatedApplication {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final AppliedSignal appliedSignal = new AppliedSignal();
    private ClusterState state = new ClusterState();

    public AppliedSignal appliedSignal() {
        return appliedSignal;
    }

    @Override
    public byte[] apply(long index, byte[] command) {
        Outcome outcome;
        lock.writeLock().lock();
        try {
            outcome = applyDecoded(index, command);
        } finally {
            lock.writeLock().unlock();
        }
        appliedSignal.advance(index);
        return Codec.encode(outcome);
    }

    /** A command that cannot even be decoded is applied as a rejection, so every server agrees. */
    private Outcome applyDecoded(long index, byte[] bytes) {
        Command command;
        try {
            command = Codec.decodeCommand(bytes);
        } catch (RuntimeException e) {
            return state.skipUndecodable(index, e.getMessage());
        }
        return state.apply(index, command);
    }

    @Override
    public byte[] query(byte[] query) {
        return Codec.encode(query(Codec.decodeQuery(query)));
    }

    public QueryResult query(Query query) {
        lock.readLock().lock();
        try {
            return state.query(query);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long lastAppliedIndex() {
        lock.readLock().lock();
        try {
            return state.lastAppliedIndex();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The state's image: plain, immutable data, serialised later without the lock. */
    @Override
    public Snapshot captureSnapshot() {
        StateImage image;
        lock.readLock().lock();
        try {
            image = state.image();
        } finally {
            lock.readLock().unlock();
        }
        return out -> Codec.writeImage(image, out);
    }

    @Override
    public void readSnapshot(InputStream in) throws IOException {
        ClusterState restored = ClusterState.fromImage(Codec.readImage(in));
        lock.writeLock().lock();
        try {
            state = restored;
        } finally {
            lock.writeLock().unlock();
        }
        appliedSignal.advance(restored.lastAppliedIndex());
    }
}
