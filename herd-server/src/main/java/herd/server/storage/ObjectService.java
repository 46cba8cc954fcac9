package herd.server.storage;

import herd.block.Done;
import herd.block.store.ObjectStore;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import herd.core.command.QueryResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copies of objects, as the other nodes and its own gateway reach them: every operation
 * names the storage epoch its caller placed the object by, and is refused ("retry") when that epoch is
 * over, so a writer that missed a membership change can never update a copy that recovery already
 * moved past.
 *
 * <p>Before the first operation on an object in an epoch, the copy here is brought up to date
 * ({@link #ensureCurrent}): the nodes that any kept epoch placed the object on are asked for their
 * copy's stamp (see {@link StampLog}); when one has a newer stamp than this node's copy, its copy
 * replaces this one. Only then is the copy stamped with the epoch and used. Writes therefore never
 * land on a stale copy, and recovery in the background is the same step run for every object.
 *
 * <p>Locks: operations on one object share a read lock and check their epoch again under it;
 * replacing a copy, or copying it out for another node, takes the write lock, so no write is lost
 * under a replacement and none of an ended epoch lands after its copy was taken.
 */
public final class ObjectService implements ObjectChannelServer.Copies {
    private static final Logger log = LoggerFactory.getLogger(ObjectService.class);
    /** How long an operation for an epoch this node has not seen yet waits for the cluster state to catch up. */
    static final Duration EPOCH_CATCH_UP = Duration.ofSeconds(5);
    private static final int LOCK_STRIPES = 256;

    /** A copy's stamp and whether the object exists here. */
    public record StampInfo(long stamp, boolean exists) {}

    private final String self;
    private final ObjectStore store;
    private final StampLog stamps;
    private final StorageMaps maps;
    private final ObjectPeers peers;
    /**
     * Objects' locks, by stripe: every operation on a copy holds its object's shared, those that
     * replace or drop the copy exclusively. {@link StampedLock}s, whose shared side keeps no count per
     * thread: a {@code ReentrantReadWriteLock} taken by the many NBD workers in turn looked up and
     * dropped a counter in the thread's locals at every write, a measurable part of the replication
     * layer's cost per 4 KiB write. They are not reentrant, and need not be: no section holding one
     * calls back into this service, only into the store.
     */
    private final ReadWriteLock[] locks = new ReadWriteLock[LOCK_STRIPES];
    /** Updates of copies in progress ({@link #ensureCurrent}), one per object. */
    private final ConcurrentHashMap<ObjectId, Update> updating = new ConcurrentHashMap<>();
    private final AtomicLong copiesPulled = new AtomicLong();
    private final AtomicLong bytesPulled = new AtomicLong();
    private final AtomicLong repairs = new AtomicLong();

    ObjectService(String self, ObjectStore store, StampLog stamps, StorageMaps maps, ObjectPeers peers) {
        this.self = self;
        this.store = store;
        this.stamps = stamps;
        this.maps = maps;
        this.peers = peers;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            locks[i] = new StampedLock().asReadWriteLock();
        }
    }

    public String nodeName() {
        return self;
    }

    ObjectStore store() {
        return store;
    }

    StorageMaps maps() {
        return maps;
    }

    ObjectPeers peers() {
        return peers;
    }

    // ---- the data path: operations of a writer or reader placed by an epoch ----

    @Override
    public CopyReply<Done> read(long epoch, ObjectId objectId, int offset, ByteBuffer destination) {
        return onCurrentCopy(epoch, objectId, () -> CopyReply.of(store.read(objectId, offset, destination)));
    }

    @Override
    public CopyReply<Done> write(long epoch, ObjectId objectId, int offset, ByteBuffer source) {
        return onCurrentCopy(epoch, objectId, () -> CopyReply.of(store.write(objectId, offset, source)));
    }

    public CopyReply<Done> writeZeroes(long epoch, ObjectId objectId, int offset, int length, boolean allocate) {
        return onCurrentCopy(epoch, objectId, () -> CopyReply.of(store.writeZeroes(objectId, offset, length, allocate)));
    }

    public CopyReply<Done> trim(long epoch, ObjectId objectId, int offset, int length) {
        return onCurrentCopy(epoch, objectId, () -> CopyReply.of(store.trim(objectId, offset, length)));
    }

    public CopyReply<AllocationMap> allocation(long epoch, ObjectId objectId) {
        return onCurrentCopy(epoch, objectId, () -> CopyReply.of(store.allocation(objectId)));
    }

    /**
     * Makes the objects' completed changes durable. No epoch: durability of what was written never hurts.
     * A copy whose file was lost (or whose trailer was damaged) since it was written cannot be: it is
     * replaced by another node's copy (which had every acknowledged write too, and the replacement is
     * synced), and the flush goes on.
     */
    @Override
    public CopyReply<Done> flush(Collection<ObjectId> objectIds) {
        for (int attempt = 0; ; attempt++) {
            ObjectResult<Done> flushed = store.flush(objectIds);
            if (attempt == objectIds.size() || !(flushed instanceof ObjectResult.Failed<Done>(ObjectError.Corrupt lost))
                    || !lost.wholeCopy()) {
                return CopyReply.of(flushed);
            }
            CopyReply<Done> replaced = replaceLostCopy(lost);
            if (!(replaced instanceof CopyReply.Ok<Done>)) {
                return CopyReply.of(flushed);
            }
        }
    }

    /**
     * Replaces this node's copy, whose file was lost or whose trailer is damaged, with the first other
     * copy the current epoch places that can give it.
     */
    private CopyReply<Done> replaceLostCopy(ObjectError.Corrupt lost) {
        ObjectId objectId = lost.objectId();
        QueryResult.StorageMap map = maps.currentKnowing(objectId.volumeId());
        CopyReply<Done> replaced = new CopyReply.Failed<>(lost);
        for (String holder : maps.placement(map, map.current(), objectId)) {
            if (!holder.equals(self)) {
                replaced = mendFrom(map.current().epoch(), objectId, holder);
                if (replaced instanceof CopyReply.Ok<Done>) {
                    break;
                }
            }
        }
        return replaced;
    }

    // ---- what other nodes ask of a holder ----

    /** This copy's stamp, for a node deciding which copy is newest. */
    public CopyReply<StampInfo> stamp(long epoch, ObjectId objectId) {
        Optional<CopyReply<StampInfo>> refused = gate(epoch);
        if (refused.isPresent()) {
            return refused.get();
        }
        return new CopyReply.Ok<>(stampInfo(objectId, epoch));
    }

    /**
     * The whole copy as it is here, for a node that replaces its own copy with it. Taken under the
     * exclusive lock: an operation of the previous epoch that passed its gate before this node
     * learned the new one may still be changing the copy; it finishes first, so the copy holds it
     * (and any such operation that gets the lock later is refused, see {@link #onCurrentCopy}). The
     * copy is also one state of the object, not its allocation before a write and its blocks after.
     */
    public CopyReply<ObjectCopy> copyOut(long epoch, ObjectId objectId) {
        Optional<CopyReply<ObjectCopy>> refused = gate(epoch);
        if (refused.isPresent()) {
            return refused.get();
        }
        ReadWriteLock lock = lockOf(objectId);
        lock.writeLock().lock();
        try {
            return readWholeCopy(objectId, epoch);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Replaces this node's copy whole with {@code source}'s: a surplus copy newer than this one, which
     * {@link #dropIfSurplus} asks a node the epoch places the object on to take (that node has taken
     * no change of the epoch yet). A source without the object means there is none: this copy is
     * removed. A copy already current in the epoch is refused: the ask came late (a request held on
     * its way, or answered after its caller gave up), and the copy may hold changes of the epoch. A
     * damaged copy is mended instead ({@link #mendFrom}), and a change refused elsewhere for want of
     * space is undone by {@link #restoreFrom}: both keep the changes in flight. The source's copy is
     * fetched without this copy's lock, as in {@link #ensureCurrent}: held across the call, the lock
     * would stop this node's operations on every object of its stripe for as long as the source takes
     * to answer (its whole timeout when it hangs), and two nodes replacing copies from each other
     * could each wait for the other's lock.
     */
    public CopyReply<Done> repairFrom(long epoch, ObjectId objectId, String source) {
        CopyReply<Optional<ObjectCopy>> fetched = fetchFrom(source, epoch, objectId);
        if (!(fetched instanceof CopyReply.Ok<Optional<ObjectCopy>>(Optional<ObjectCopy> theirs))) {
            return fetched.cast();
        }
        return underExclusiveLock(epoch, objectId, "object " + objectId + " was to be replaced",
            () -> replaceWhole(epoch, objectId, source, theirs));
    }

    /** {@link #repairFrom}'s change, under the object's exclusive lock: {@code theirs} empty removes this copy. */
    private CopyReply<Done> replaceWhole(long epoch, ObjectId objectId, String source, Optional<ObjectCopy> theirs) {
        if (isCurrent(objectId, epoch)) {
            // The ask came late (this node brought its copy up to date since, from the newest one, which
            // the asking node's is not newer than): the copy may hold changes of the epoch.
            return CopyReply.retry("this node's copy of object " + objectId + " is current in epoch " + epoch
                + " and may hold its changes: it is not replaced whole");
        }
        if (theirs.isEmpty()) {
            CopyReply<Done> removed = CopyReply.of(store.delete(objectId));
            if (removed instanceof CopyReply.Ok<Done>) {
                repairs.incrementAndGet();
                log.warn("removed this node's copy of object {}: node {} has none", objectId, source);
            }
            return removed;
        }
        CopyReply<Done> installed = install(objectId, theirs.get());
        if (installed instanceof CopyReply.Ok<Done>) {
            try {
                stamps.set(objectId, epoch, theirs.get().stamp());
            } catch (IOException e) {
                return new CopyReply.Failed<>(new ObjectError.IoFailure(objectId, "cannot record its stamp: " + e.getMessage()));
            }
            repairs.incrementAndGet();
            log.warn("replaced this node's copy of object {} with node {}'s", objectId, source);
        }
        return installed;
    }

    /**
     * Mends this node's copy from {@code source}'s: each block that fails its checksum is replaced by
     * the source's block (released where the source has none), and a copy whose file was lost is
     * replaced whole. The blocks that read well stay: this epoch's changes reach the copies in no
     * fixed order, so a change the source has not applied yet may be in them, and replacing the copy
     * whole would lose it once it is acknowledged. (A change is refused by a damaged block it only
     * partly covers, and a copy whose file is lost takes none.) The source's copy is fetched without
     * this copy's lock, as in {@link #ensureCurrent}.
     */
    public CopyReply<Done> mendFrom(long epoch, ObjectId objectId, String source) {
        CopyReply<Optional<ObjectCopy>> fetched = fetchFrom(source, epoch, objectId);
        if (!(fetched instanceof CopyReply.Ok<Optional<ObjectCopy>>(Optional<ObjectCopy> theirs))) {
            return fetched.cast();
        }
        return underExclusiveLock(epoch, objectId, "object " + objectId + " was mended", () -> {
            CopyReply<String> mended = switch (store.allocation(objectId)) {
                case ObjectResult.Ok<AllocationMap>(AllocationMap mine) -> mendBlocks(objectId, mine, theirs.orElse(null));
                case ObjectResult.Failed<AllocationMap>(ObjectError.Corrupt lost)
                    when lost.wholeCopy() -> switch (theirs.isEmpty()
                        ? CopyReply.of(store.delete(objectId)) : install(objectId, theirs.get())) {
                    case CopyReply.Ok<Done> ok -> new CopyReply.Ok<>(lost.blockIndex() == ObjectError.Corrupt.FILE_MISSING
                        ? "the whole copy (its file was lost)" : "the whole copy (its trailer was damaged)");
                    case CopyReply<Done> other -> other.cast();
                };
                case ObjectResult.Failed<AllocationMap>(ObjectError.NotFound absent) -> new CopyReply.Ok<>("");
                case ObjectResult.Failed<AllocationMap> failed -> new CopyReply.Failed<>(failed.error());
            };
            if (!(mended instanceof CopyReply.Ok<String>(String what))) {
                return mended.cast();
            }
            if (!what.isEmpty()) {
                repairs.incrementAndGet();
                log.warn("mended this node's copy of object {} from node {}'s: {}", objectId, source, what);
            }
            return new CopyReply.Ok<>(Done.DONE);
        });
    }

    /**
     * Puts the blocks covering bytes [offset, offset + length) of this copy back as {@code source}'s
     * copy has them (released where it has none): how a change this copy took and another refused
     * for want of space is undone. The rest of the copy stays, other changes in flight included.
     */
    public CopyReply<Done> restoreFrom(long epoch, ObjectId objectId, String source, int offset, int length) {
        CopyReply<Optional<ObjectCopy>> fetched = fetchFrom(source, epoch, objectId);
        if (!(fetched instanceof CopyReply.Ok<Optional<ObjectCopy>>(Optional<ObjectCopy> theirs))) {
            return fetched.cast();
        }
        return underExclusiveLock(epoch, objectId, "a range of object " + objectId + " was put back", () -> {
            int end = Math.ceilDiv(offset + length, AllocationMap.BLOCK_SIZE_BYTES);
            for (int index = offset / AllocationMap.BLOCK_SIZE_BYTES; index < end; index++) {
                int at = index * AllocationMap.BLOCK_SIZE_BYTES;
                ObjectResult<Done> restored = theirs.isPresent() && theirs.get().allocation().isAllocated(index)
                    ? store.write(objectId, at, theirs.get().block(index))
                    : store.trim(objectId, at, AllocationMap.BLOCK_SIZE_BYTES); // an absent object is done
                if (restored instanceof ObjectResult.Failed<Done>) {
                    return CopyReply.of(restored);
                }
            }
            repairs.incrementAndGet();
            return CopyReply.of(store.sync(objectId));
        });
    }

    /**
     * {@code source}'s copy, for mending or restoring this one, fetched without this copy's lock (see
     * {@link #ensureCurrent}); empty when the source holds no such object (its blocks read as zeros).
     */
    private CopyReply<Optional<ObjectCopy>> fetchFrom(String source, long epoch, ObjectId objectId) {
        Optional<CopyReply<Optional<ObjectCopy>>> refused = gate(epoch);
        if (refused.isPresent()) {
            return refused.get();
        }
        return switch (peers.copyOut(maps.current(), source, epoch, objectId)) {
            case CopyReply.Ok<ObjectCopy>(ObjectCopy copy) -> new CopyReply.Ok<>(Optional.of(copy));
            case CopyReply.Failed<ObjectCopy>(ObjectError.NotFound absent) -> new CopyReply.Ok<>(Optional.empty());
            case CopyReply<ObjectCopy> other -> other.cast();
        };
    }

    /** Runs {@code change} under the object's exclusive lock, unless {@code epoch} ended meanwhile ("retry"). */
    private CopyReply<Done> underExclusiveLock(long epoch, ObjectId objectId, String what, Supplier<CopyReply<Done>> change) {
        ReadWriteLock lock = lockOf(objectId);
        lock.writeLock().lock();
        try {
            if (maps.epoch() != epoch) {
                return endedWhile(epoch, what);
            }
            return change.get();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Replaces the blocks of this copy that fail their checksum; answers what it replaced, in words
     * ("" for nothing). The caller holds the write lock.
     */
    private CopyReply<String> mendBlocks(ObjectId objectId, AllocationMap mine, ObjectCopy theirs) {
        ByteBuffer block = ByteBuffer.allocate(AllocationMap.BLOCK_SIZE_BYTES);
        int mended = 0;
        for (int index = 0; index < AllocationMap.BLOCKS_PER_OBJECT; index++) {
            if (!mine.isAllocated(index)) {
                continue;
            }
            int offset = index * AllocationMap.BLOCK_SIZE_BYTES;
            ObjectResult<Done> read = store.read(objectId, offset, block.clear());
            if (read instanceof ObjectResult.Ok<Done>) {
                continue;
            }
            if (!(read instanceof ObjectResult.Failed<Done>(ObjectError.Corrupt damaged))) {
                return CopyReply.of(read).cast();
            }
            ObjectResult<Done> replaced = theirs != null && theirs.allocation().isAllocated(index)
                ? store.write(objectId, offset, theirs.block(index))
                : store.trim(objectId, offset, AllocationMap.BLOCK_SIZE_BYTES);
            if (replaced instanceof ObjectResult.Failed<Done>) {
                return CopyReply.of(replaced).cast();
            }
            mended++;
        }
        if (mended == 0) {
            return new CopyReply.Ok<>("");
        }
        ObjectResult<Done> synced = store.sync(objectId);
        return synced instanceof ObjectResult.Failed<Done> ? CopyReply.of(synced).cast()
            : new CopyReply.Ok<>(mended + (mended == 1 ? " damaged block" : " damaged blocks"));
    }

    /**
     * Reads every allocated block of this node's copy, checking each against its checksum, and keeps
     * nothing: how a volume check and the scrub find damage in copies that reads never reach (a read
     * is served by the first copy that reads well). The copy is brought up to date first, as for a read.
     */
    public CopyReply<Done> verify(long epoch, ObjectId objectId) {
        return switch (verifiedBytes(epoch, objectId)) {
            case CopyReply.Ok<Integer> ok -> new CopyReply.Ok<>(Done.DONE);
            case CopyReply<Integer> other -> other.cast();
        };
    }

    /** {@link #verify}, answering how many bytes of data it read. */
    CopyReply<Integer> verifiedBytes(long epoch, ObjectId objectId) {
        return onCurrentCopy(epoch, objectId, () -> switch (readWholeCopy(objectId, epoch)) {
            case CopyReply.Ok<ObjectCopy> ok -> new CopyReply.Ok<>(ok.value().allocatedBlocks().length);
            case CopyReply.Failed<ObjectCopy> failed -> failed.cast();
            case CopyReply.Retry<ObjectCopy> retry -> retry.cast();
        });
    }

    /** The objects this node holds copies of, in id order. */
    public List<ObjectId> list() {
        return store.list();
    }

    // ---- bringing a copy up to date ----

    /**
     * Makes this node's copy of the object current for {@code epoch}: replaced by a newer copy from
     * another node when there is one, removed when the newest word is that the object no longer exists.
     *
     * <p>The other nodes are asked, and a newer copy fetched, without this copy's lock: those nodes
     * may be bringing their own copies up to date from this one at the same moment, each holding its
     * lock and waiting for the other's, until a request timed out (locks are shared by objects that
     * hash alike, so two different objects were enough). The copy here cannot change meanwhile in a
     * way that matters: this epoch's operations wait until it is current, and the lock is taken to
     * install what was fetched. One caller per object does the work; the others wait for its answer.
     * An update for an earlier epoch is not waited for but taken over: it may be waiting long for a
     * node the new epoch left out (one whose disk hangs answers nothing about that object), and it
     * can no longer install anything, since under the lock it finds its epoch over.
     */
    public CopyReply<Done> ensureCurrent(long epoch, ObjectId objectId) {
        while (true) {
            if (isCurrent(objectId, epoch)) {
                return new CopyReply.Ok<>(Done.DONE);
            }
            Update mine = new Update(epoch, new CompletableFuture<>());
            Update running = updating.putIfAbsent(objectId, mine);
            boolean tookOver = running != null && running.epoch() < epoch && updating.replace(objectId, running, mine);
            if (running != null && !tookOver) {
                CopyReply<Done> answer = running.result().join();
                if (running.epoch() == epoch) {
                    return answer;
                }
                continue; // an update for another epoch: look again
            }
            CopyReply<Done> answer = CopyReply.retry("bringing object " + objectId + " up to date failed");
            try {
                answer = update(epoch, objectId);
                return answer;
            } finally {
                updating.remove(objectId, mine);
                mine.result().complete(answer);
            }
        }
    }

    /** An update of one object's copy in progress, for one epoch. */
    private record Update(long epoch, CompletableFuture<CopyReply<Done>> result) {}

    private boolean isCurrent(ObjectId objectId, long epoch) {
        OptionalLong stamp = stamps.epoch(objectId);
        return stamp.isPresent() && stamp.getAsLong() >= epoch;
    }

    private CopyReply<Done> update(long epoch, ObjectId objectId) {
        QueryResult.StorageMap map = maps.current();
        if (map.current().epoch() != epoch) {
            return CopyReply.retry("storage epoch " + epoch + " is over (this node is at " + map.current().epoch() + ")");
        }
        CopyReply<Newest> found = newest(map, epoch, objectId);
        if (!(found instanceof CopyReply.Ok<Newest>(Newest newest))) {
            return found.cast();
        }
        ReadWriteLock lock = lockOf(objectId);
        lock.writeLock().lock();
        try {
            if (isCurrent(objectId, epoch)) {
                return new CopyReply.Ok<>(Done.DONE); // a repair made it current meanwhile
            }
            if (maps.epoch() != epoch) {
                return endedWhile(epoch, "object " + objectId + " was brought up to date");
            }
            CopyReply<Done> applied = switch (newest) {
                case Newest.Here here -> new CopyReply.Ok<>(Done.DONE);
                case Newest.Absent absent -> dropCopy(objectId);
                case Newest.Elsewhere elsewhere -> install(objectId, elsewhere.copy());
            };
            if (applied instanceof CopyReply.Ok<Done>) {
                stamps.set(objectId, epoch, newest.stamp());
            }
            return applied;
        } catch (IOException e) {
            return new CopyReply.Failed<>(new ObjectError.IoFailure(objectId, "cannot record its stamp: " + e.getMessage()));
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The newest content of an object among its possible holders, and its stamp (the basis of this copy's new stamp). */
    private sealed interface Newest {
        long stamp();

        /** This copy (or its absence) is the newest there is. */
        record Here(long stamp) implements Newest {}

        /** The newest word is that the object was removed after this copy was last current. */
        record Absent(long stamp) implements Newest {}

        /** Another node's copy, fetched. */
        record Elsewhere(long stamp, ObjectCopy copy) implements Newest {}
    }

    /** A holder's answer about its copy. */
    private record HolderStamp(String node, StampInfo info) {}

    /** Asks the possible holders for their stamps and fetches the newest copy when it is not this one. */
    private CopyReply<Newest> newest(QueryResult.StorageMap map, long epoch, ObjectId objectId) {
        StampInfo mine = stampInfo(objectId, epoch);
        List<HolderStamp> newer = new ArrayList<>();
        for (String holder : maps.possibleHolders(map, objectId)) {
            if (holder.equals(self)) {
                continue;
            }
            switch (peers.stamp(map, holder, epoch, objectId)) {
                case CopyReply.Ok<StampInfo> ok -> {
                    if (isNewer(ok.value(), mine)) {
                        newer.add(new HolderStamp(holder, ok.value()));
                    }
                }
                case CopyReply.Retry<StampInfo> retry -> {
                    return CopyReply.retry("node " + holder + ", which may hold object " + objectId + ", cannot answer: "
                        + retry.reason());
                }
                case CopyReply.Failed<StampInfo> failed ->
                    log.warn("node {} could not tell its copy of {}: {}", holder, objectId, failed.error().describe());
            }
        }
        if (newer.isEmpty()) {
            return new CopyReply.Ok<>(new Newest.Here(mine.stamp()));
        }
        newer.sort(Comparator.comparingLong((HolderStamp h) -> h.info().stamp()).reversed());
        if (!newer.get(0).info().exists()) {
            return new CopyReply.Ok<>(new Newest.Absent(newer.get(0).info().stamp()));
        }
        CopyReply<Newest> last = CopyReply.retry("no newer copy of object " + objectId + " could be read");
        for (HolderStamp holder : newer) {
            if (!holder.info().exists()) {
                continue;
            }
            CopyReply<ObjectCopy> copy = peers.copyOut(map, holder.node(), epoch, objectId);
            if (copy instanceof CopyReply.Ok<ObjectCopy>(ObjectCopy fetched)) {
                return new CopyReply.Ok<>(new Newest.Elsewhere(fetched.stamp(), fetched));
            }
            last = copy.cast();
            log.warn("could not copy object {} from node {}: {}", objectId, holder.node(), copy);
        }
        return last;
    }

    /** Newer: a higher stamp; at an equal stamp a copy that exists beats an absence this node has not stamped. */
    private static boolean isNewer(StampInfo theirs, StampInfo mine) {
        return theirs.stamp() > mine.stamp() || (theirs.stamp() == mine.stamp() && theirs.exists() && !mine.exists()
            && mine.stamp() < 0);
    }

    /** This copy as another node compares it during {@code epoch}: its effective stamp and whether it exists. */
    private StampInfo stampInfo(ObjectId objectId, long epoch) {
        boolean exists = !(store.allocation(objectId) instanceof ObjectResult.Failed<AllocationMap> failed
            && failed.error() instanceof ObjectError.NotFound);
        return new StampInfo(effectiveStamp(objectId, epoch), exists);
    }

    /**
     * The stamp a copy's content is worth during {@code epoch}: a copy already checked in this epoch
     * is worth what it was brought up to (its basis), not more, since the writes of this epoch reach
     * every copy anyway; -1 without a stamp.
     */
    private long effectiveStamp(ObjectId objectId, long epoch) {
        return stamps.get(objectId).map(stamp -> stamp.effective(epoch)).orElse(-1L);
    }

    private CopyReply<Done> dropCopy(ObjectId objectId) {
        return CopyReply.of(store.delete(objectId));
    }

    /** Replaces the copy here by {@code copy}: its allocated blocks are written and synced. Holds the write lock. */
    private CopyReply<Done> install(ObjectId objectId, ObjectCopy copy) {
        ObjectResult<Done> deleted = store.delete(objectId);
        if (deleted instanceof ObjectResult.Failed<Done>) {
            return CopyReply.of(deleted);
        }
        int position = 0;
        AllocationMap allocation = copy.allocation();
        for (int block = 0; block < AllocationMap.BLOCKS_PER_OBJECT; ) {
            if (!allocation.isAllocated(block)) {
                block++;
                continue;
            }
            int first = block;
            while (block < AllocationMap.BLOCKS_PER_OBJECT && allocation.isAllocated(block)) {
                block++;
            }
            int length = (block - first) * AllocationMap.BLOCK_SIZE_BYTES;
            ObjectResult<Done> written = store.write(objectId, first * AllocationMap.BLOCK_SIZE_BYTES,
                ByteBuffer.wrap(copy.allocatedBlocks(), position, length));
            if (written instanceof ObjectResult.Failed<Done>) {
                return CopyReply.of(written);
            }
            position += length;
        }
        ObjectResult<Done> synced = allocation.isEmpty() ? ObjectResult.done() : store.sync(objectId);
        copiesPulled.incrementAndGet();
        bytesPulled.addAndGet(copy.allocatedBlocks().length);
        return CopyReply.of(synced);
    }

    private CopyReply<ObjectCopy> readWholeCopy(ObjectId objectId, long epoch) {
        ObjectResult<AllocationMap> allocation = store.allocation(objectId);
        if (!(allocation instanceof ObjectResult.Ok<AllocationMap> ok)) {
            return CopyReply.of(allocation).cast();
        }
        AllocationMap map = ok.value();
        byte[] blocks = new byte[map.allocatedBlocks() * AllocationMap.BLOCK_SIZE_BYTES];
        ByteBuffer into = ByteBuffer.wrap(blocks);
        for (int block = 0; block < AllocationMap.BLOCKS_PER_OBJECT; ) {
            if (!map.isAllocated(block)) {
                block++;
                continue;
            }
            int first = block;
            while (block < AllocationMap.BLOCKS_PER_OBJECT && map.isAllocated(block)) {
                block++;
            }
            into.limit(into.position() + (block - first) * AllocationMap.BLOCK_SIZE_BYTES);
            ObjectResult<Done> read = store.read(objectId, first * AllocationMap.BLOCK_SIZE_BYTES, into);
            if (read instanceof ObjectResult.Failed<Done> failed) {
                return new CopyReply.Failed<>(failed.error());
            }
        }
        return new CopyReply.Ok<>(new ObjectCopy(effectiveStamp(objectId, epoch), map, blocks));
    }

    /**
     * Removes this node's copy when the current epoch does not place the object here and every node
     * of the epoch has finished its recovery (so the copies that replace this one are complete).
     */
    boolean dropIfSurplus(QueryResult.StorageMap map, ObjectId objectId) {
        if (!StorageMaps.knowsVolumeOf(map, objectId)) {
            return false; // a volume newer than the map: its copies are not known, so neither is its placement
        }
        long epoch = map.current().epoch();
        List<String> placement = maps.placement(map, map.current(), objectId);
        if (placement.contains(self) || !everyPlacedCopyIsAsNew(map, epoch, objectId, placement)) {
            return false;
        }
        ReadWriteLock lock = lockOf(objectId);
        lock.writeLock().lock();
        try {
            if (store.delete(objectId) instanceof ObjectResult.Ok<Done>) {
                stamps.forget(objectId);
                log.debug("dropped object {}: epoch {} places it elsewhere", objectId, epoch);
                return true;
            }
            return false;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Before this copy goes, every node the epoch places the object on must hold one at least as new,
     * or know at least as newly that the object is gone (see {@link #isNewer}): a write accepted here
     * under the previous epoch (by nodes that had not seen the new one yet) can land after those nodes
     * listed what to recover. A node that lacks it is asked to take this copy (outside this copy's
     * lock, which its request reads under); the surplus copy stays if any fails.
     */
    private boolean everyPlacedCopyIsAsNew(QueryResult.StorageMap map, long epoch, ObjectId objectId, List<String> placement) {
        StampInfo mine = stampInfo(objectId, epoch);
        for (String node : placement) {
            // An absence counts: a node whose copy was emptied (a trim, zeroes) after it was made current
            // holds the newest word, and bringing this copy back there would undo that change.
            boolean current = peers.stamp(map, node, epoch, objectId) instanceof CopyReply.Ok<StampInfo> ok
                && !isNewer(mine, ok.value());
            if (!current && !(peers.repair(map, node, epoch, objectId, self) instanceof CopyReply.Ok<Done>)) {
                log.info("keeps its copy of object {}: node {}, where epoch {} places it, could not take it yet", objectId,
                    node, epoch);
                return false;
            }
        }
        return true;
    }

    /** Deletes this node's copy of an object no volume can read any more. */
    boolean reclaim(ObjectId objectId) {
        ReadWriteLock lock = lockOf(objectId);
        lock.writeLock().lock();
        try {
            boolean deleted = store.delete(objectId) instanceof ObjectResult.Ok<Done>;
            if (deleted) {
                stamps.forget(objectId);
            }
            return deleted;
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---- helpers ----

    private <T> CopyReply<T> onCurrentCopy(long epoch, ObjectId objectId, Supplier<CopyReply<T>> operation) {
        Optional<CopyReply<T>> refused = gate(epoch);
        if (refused.isPresent()) {
            return refused.get();
        }
        CopyReply<Done> current = ensureCurrent(epoch, objectId);
        if (!(current instanceof CopyReply.Ok<Done>)) {
            return current.cast();
        }
        ReadWriteLock lock = lockOf(objectId);
        lock.readLock().lock();
        try {
            // Checked again under the lock: while this operation waited for it, the epoch may have
            // ended and another node copied this copy for the next one; a change made now would be
            // missing from that copy (and acknowledged if the old epoch's other copies took it).
            if (maps.epoch() != epoch) {
                return endedWhile(epoch, "the operation waited for object " + objectId);
            }
            return operation.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** "Retry": {@code epoch} ended while the object's lock was awaited or held for {@code what}. */
    private <T> CopyReply<T> endedWhile(long epoch, String what) {
        return CopyReply.retry("storage epoch " + epoch + " ended while " + what + " (the current epoch is "
            + maps.epoch() + ")");
    }

    /** Refuses an epoch that is over; waits a little for one this node has not learned yet. */
    private <T> Optional<CopyReply<T>> gate(long epoch) {
        if (maps.epoch() < epoch) {
            maps.awaitEpoch(epoch, EPOCH_CATCH_UP);
        }
        long known = maps.epoch();
        if (known == epoch) {
            return Optional.empty();
        }
        return Optional.of(CopyReply.retry(known > epoch
            ? "storage epoch " + epoch + " is over: the current epoch is " + known
            : "node " + self + " has not learned storage epoch " + epoch + " yet (it knows " + known + ")"));
    }

    /** The lock of the object's stripe (package-private: tests hold it for an operation that takes long). */
    ReadWriteLock lockOf(ObjectId objectId) {
        return locks[lockStripe(objectId)];
    }

    /** Which of the locks an object shares with the others that hash alike. */
    static int lockStripe(ObjectId objectId) {
        return Math.floorMod(Long.hashCode(objectId.value() * 0x9E3779B97F4A7C15L), LOCK_STRIPES);
    }

    long copiesPulled() {
        return copiesPulled.get();
    }

    long bytesPulled() {
        return bytesPulled.get();
    }

    long repairs() {
        return repairs.get();
    }
}
