package herd.server.storage;

import herd.block.Done;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectIo;
import herd.block.volume.ObjectResult;
import herd.block.volume.UnsyncedObjects;
import herd.blockcore.ObjectId;
import herd.blockcore.volume.ObjectMap;
import herd.blockcore.volume.WritePlan;
import herd.blockcore.volume.WriteTarget;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Predicate;

/**
 * The {@link ObjectIo} a served volume's {@code VolumeDevice} runs on: it ignores the volume id in
 * the object ids it is given and uses only the object index, because the volume's id changes at a
 * snapshot while connections keep their device. Reads resolve through the volume's chain
 * ({@link ObjectMap#resolve}); the first write to an index copies the object it read from
 * (copy-on-write, {@link ObjectMap#writeTarget}), applies the write, makes the new object durable and
 * only then commits the inode entry, so the state never names an object that could be lost.
 *
 * <p>Locks: every operation holds the switch lock shared; {@link #whilePaused} holds it exclusively
 * so that a snapshot happens between writes. It is a {@link StampedLock}, as the object service's
 * are ({@link ObjectService}): its shared side keeps no count per thread, and no section holding it
 * takes it again. First writes to an index are serialised per stripe so two of them never copy over
 * each other.
 */
final class CopyOnWriteIo implements ObjectIo {
    /** Lock stripes for first writes; indexes share a stripe when equal modulo this. */
    static final int FIRST_WRITE_STRIPES = 64;

    /** Records in the cluster state that the volume owns an index; an error text when refused. */
    interface InodeCommitter {
        Optional<String> recordOwnership(int volumeId, int index);
    }

    /** A write, zeroing or trim applied to the volume's own object. */
    private interface ObjectOperation {
        ObjectResult<Done> applyTo(ObjectId target);
    }

    private final ObjectIo store;
    private final InodeCommitter committer;
    private final AtomicReference<VolumeView> view;
    private final ReadWriteLock switchLock = new StampedLock().asReadWriteLock();
    private final ReentrantLock[] firstWriteLocks = new ReentrantLock[FIRST_WRITE_STRIPES];
    private final Predicate<VolumeView> stillExists;
    /** Own objects changed since their last flush, and the flushes under way. */
    private final UnsyncedObjects unflushed = new UnsyncedObjects();

    CopyOnWriteIo(ObjectIo store, InodeCommitter committer, VolumeView initial) {
        this(store, committer, initial, view -> true);
    }

    /**
     * {@code stillExists} tells, when asked, whether the served snapshot is still in the catalog
     * (false when it cannot tell): an object it names that no copy holds reads as zeros only while it
     * is (a trim emptied the object); once it was deleted, its objects are reclaimed, and zeros would
     * be wrong data.
     */
    CopyOnWriteIo(ObjectIo store, InodeCommitter committer, VolumeView initial, Predicate<VolumeView> stillExists) {
        this.store = store;
        this.committer = committer;
        this.stillExists = stillExists;
        this.view = new AtomicReference<>(initial);
        for (int i = 0; i < FIRST_WRITE_STRIPES; i++) {
            firstWriteLocks[i] = new ReentrantLock();
        }
    }

    VolumeView view() {
        return view.get();
    }

    /**
     * Runs {@code change} with no operation in flight, then serves {@code refreshed}'s answer: how a
     * snapshot or resize of the served volume takes effect between two writes.
     */
    <T> T whilePaused(Callable<T> change, Callable<VolumeView> refreshed) throws Exception {
        switchLock.writeLock().lock();
        try {
            flush(List.of());
            T result = change.call();
            view.set(refreshed.call());
            return result;
        } finally {
            switchLock.writeLock().unlock();
        }
    }

    @Override
    public ObjectResult<Done> read(ObjectId objectId, int offsetInObject, ByteBuffer destination) {
        switchLock.readLock().lock();
        try {
            VolumeView current = view.get();
            Optional<String> unusable = current.unusable(false);
            if (unusable.isPresent()) {
                return ObjectResult.failed(new ObjectError.IoFailure(objectId, unusable.get()));
            }
            Optional<ObjectId> source = ObjectMap.resolve(current.chain(), current.inodes(), current.volumeId(), objectId.index());
            if (source.isEmpty()) {
                return ObjectResult.failed(new ObjectError.NotFound(objectId));
            }
            ObjectResult<Done> read = store.read(source.get(), offsetInObject, destination);
            if (read instanceof ObjectResult.Failed<Done>(ObjectError.NotFound absent) && current.snapshot()
                    && !stillExists.test(current)) {
                return ObjectResult.failed(new ObjectError.IoFailure(objectId, "snapshot '" + current.name()
                    + "' names this object but no copy holds it, and the snapshot is not in the catalog any more "
                    + "(deleted while this client read it) or the catalog cannot be read right now"));
            }
            return read;
        } finally {
            switchLock.readLock().unlock();
        }
    }

    @Override
    public ObjectResult<Done> write(ObjectId objectId, int offsetInObject, ByteBuffer source) {
        boolean wholeObject = offsetInObject == 0 && source.remaining() == ObjectId.OBJECT_SIZE_BYTES;
        return change(objectId.index(), wholeObject, true, target -> store.write(target, offsetInObject, source));
    }

    @Override
    public ObjectResult<Done> writeZeroes(ObjectId objectId, int offsetInObject, int length, boolean allocate) {
        boolean wholeObject = offsetInObject == 0 && length == ObjectId.OBJECT_SIZE_BYTES;
        return change(objectId.index(), wholeObject, allocate,
            target -> store.writeZeroes(target, offsetInObject, length, allocate));
    }

    /** Advisory: only the volume's own objects release blocks; data read from a snapshot stays. */
    @Override
    public ObjectResult<Done> trim(ObjectId objectId, int offsetInObject, int length) {
        switchLock.readLock().lock();
        try {
            VolumeView current = view.get();
            Optional<String> unusable = current.unusable(true);
            if (unusable.isPresent()) {
                return ObjectResult.failed(new ObjectError.IoFailure(objectId, unusable.get()));
            }
            if (!current.ownsIndex(objectId.index())) {
                return ObjectResult.done();
            }
            ObjectId own = ObjectId.of(current.volumeId(), objectId.index());
            ObjectResult<Done> result = store.trim(own, offsetInObject, length);
            unflushed.mark(own); // after the change: a flush that takes the mark covers it
            return result;
        } finally {
            switchLock.readLock().unlock();
        }
    }

    @Override
    public ObjectResult<AllocationMap> allocation(ObjectId objectId) {
        switchLock.readLock().lock();
        try {
            VolumeView current = view.get();
            Optional<String> unusable = current.unusable(false);
            if (unusable.isPresent()) {
                return ObjectResult.failed(new ObjectError.IoFailure(objectId, unusable.get()));
            }
            Optional<ObjectId> source = ObjectMap.resolve(current.chain(), current.inodes(), current.volumeId(), objectId.index());
            return source.isEmpty() ? ObjectResult.failed(new ObjectError.NotFound(objectId)) : store.allocation(source.get());
        } finally {
            switchLock.readLock().unlock();
        }
    }

    /** Syncs every own object changed before this call (a superset of {@code objectIds}, whose ids may be stale). */
    @Override
    public ObjectResult<Done> flush(Collection<ObjectId> objectIds) {
        return unflushed.syncAll(store::flush);
    }

    /**
     * Applies {@code operation} to the volume's own object for {@code index}, copying the object the
     * index reads from first when the volume does not own it yet. {@code mustOwn} false lets an
     * operation on an index that reads as zeros, such as zeroing it, skip allocating.
     */
    private ObjectResult<Done> change(int index, boolean wholeObject, boolean mustOwn, ObjectOperation operation) {
        switchLock.readLock().lock();
        try {
            VolumeView current = view.get();
            Optional<String> unusable = current.unusable(true);
            if (unusable.isPresent()) {
                return ObjectResult.failed(new ObjectError.IoFailure(ObjectId.of(current.volumeId(), index), unusable.get()));
            }
            if (current.ownsIndex(index)) {
                return applyOwn(ObjectId.of(current.volumeId(), index), operation);
            }
            ReentrantLock stripe = firstWriteLocks[Math.floorMod(index, FIRST_WRITE_STRIPES)];
            stripe.lock();
            try {
                return firstChange(index, wholeObject, mustOwn, operation);
            } finally {
                stripe.unlock();
            }
        } finally {
            switchLock.readLock().unlock();
        }
    }

    private ObjectResult<Done> applyOwn(ObjectId own, ObjectOperation operation) {
        ObjectResult<Done> result = operation.applyTo(own);
        unflushed.mark(own);
        return result;
    }

    private ObjectResult<Done> firstChange(int index, boolean wholeObject, boolean mustOwn, ObjectOperation operation) {
        VolumeView current = view.get();
        ObjectId own = ObjectId.of(current.volumeId(), index);
        if (current.ownsIndex(index)) { // another first write to this index got here first
            return applyOwn(own, operation);
        }
        WritePlan plan = ObjectMap.writeTarget(current.chain(), current.inodes(), current.volumeId(), index);
        WriteTarget target = switch (plan) {
            case WritePlan.Refused refused -> null;
            case WriteTarget found -> found;
        };
        if (target == null) {
            return ObjectResult.failed(new ObjectError.IoFailure(own, ((WritePlan.Refused) plan).reason()));
        }
        if (target.copyFrom().isEmpty() && !mustOwn) {
            return ObjectResult.done(); // zeroing an index that already reads as zeros
        }
        if (target.copyFrom().isPresent() && !wholeObject) {
            ObjectResult<Done> copied = copyObject(target.copyFrom().get(), target.target());
            if (copied instanceof ObjectResult.Failed<Done>) {
                return copied;
            }
        }
        ObjectResult<Done> applied = operation.applyTo(target.target());
        if (applied instanceof ObjectResult.Failed<Done>) {
            return applied;
        }
        ObjectResult<Done> durable = store.flush(List.of(target.target()));
        if (durable instanceof ObjectResult.Failed<Done>) {
            return durable;
        }
        if (target.inodeUpdate().isPresent()) {
            Optional<String> refused = committer.recordOwnership(current.volumeId(), index);
            if (refused.isPresent()) {
                return ObjectResult.failed(new ObjectError.IoFailure(own, "cannot record the new object in the cluster state: "
                    + refused.get()));
            }
            view.updateAndGet(latest -> latest.volumeId() == current.volumeId() ? latest.withOwnIndex(index) : latest);
        }
        return ObjectResult.done();
    }

    /** Copies the allocated blocks of {@code from} into {@code to}, in runs of neighbouring blocks. */
    private ObjectResult<Done> copyObject(ObjectId from, ObjectId to) {
        AllocationMap map;
        switch (store.allocation(from)) {
            case ObjectResult.Ok<AllocationMap>(AllocationMap found) -> map = found;
            case ObjectResult.Failed<AllocationMap>(ObjectError.NotFound absent) -> {
                return ObjectResult.done();
            }
            case ObjectResult.Failed<AllocationMap>(ObjectError error) -> {
                return ObjectResult.failed(error);
            }
        }
        int block = 0;
        while (block < AllocationMap.BLOCKS_PER_OBJECT) {
            if (!map.isAllocated(block)) {
                block++;
                continue;
            }
            int runEnd = block;
            while (runEnd < AllocationMap.BLOCKS_PER_OBJECT && map.isAllocated(runEnd)) {
                runEnd++;
            }
            ObjectResult<Done> copied = copyRange(from, to, block * AllocationMap.BLOCK_SIZE_BYTES,
                (runEnd - block) * AllocationMap.BLOCK_SIZE_BYTES);
            if (copied instanceof ObjectResult.Failed<Done>) {
                return copied;
            }
            block = runEnd;
        }
        return ObjectResult.done();
    }

    private ObjectResult<Done> copyRange(ObjectId from, ObjectId to, int offset, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        ObjectResult<Done> read = store.read(from, offset, buffer);
        if (read instanceof ObjectResult.Failed<Done>) {
            return read;
        }
        buffer.flip();
        return store.write(to, offset, buffer);
    }
}
