package herd.server.storage;

import herd.block.Done;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectIo;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import herd.core.command.QueryResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's {@link ObjectIo}: every object lives on the nodes the current epoch's ring places it
 * on. A change goes to all of them at once and is acknowledged only when all have it (DRBD's
 * protocol C); a read is served by the first copy that reads well, this node's own first, and a copy
 * that fails its checksum is repaired from the one that read well.
 *
 * <p>When a node cannot answer (it died, or the epoch moved on), nothing is acknowledged: the
 * operation waits for the cluster to take the node out (a new epoch, whose ring places the object on
 * the survivors) and runs again there, up to {@link #GIVE_UP_AFTER}. Clients see a slower request,
 * not an error, as long as a copy survives.
 */
final class ReplicatedObjectIo implements ObjectIo {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedObjectIo.class);
    /**
     * How long an operation keeps waiting for the cluster to settle, from its first wait, before the
     * client gets an I/O error.
     */
    static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

    private final String self;
    private final ObjectService local;
    private final StorageMaps maps;
    private final ObjectPeers peers;
    /** Repairs of damaged copies found by reads, which do not wait for them. */
    private final ExecutorService repairs = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicLong corruptCopiesSeen = new AtomicLong();

    ReplicatedObjectIo(ObjectService local, StorageMaps maps, ObjectPeers peers) {
        this.self = local.nodeName();
        this.local = local;
        this.maps = maps;
        this.peers = peers;
    }

    long corruptCopiesSeen() {
        return corruptCopiesSeen.get();
    }

    // ---- reads: the first good copy ----

    @Override
    public ObjectResult<Done> read(ObjectId id, int offset, ByteBuffer destination) {
        return readFirstGood(id, (map, node, epoch) -> {
            ByteBuffer attempt = destination.duplicate();
            CopyReply<Done> reply = node.equals(self) ? local.read(epoch, id, offset, attempt)
                : peers.read(map, node, epoch, id, offset, attempt);
            if (reply instanceof CopyReply.Ok<Done>) {
                destination.position(attempt.position());
            }
            return reply;
        });
    }

    @Override
    public ObjectResult<AllocationMap> allocation(ObjectId id) {
        return readFirstGood(id, (map, node, epoch) -> node.equals(self) ? local.allocation(epoch, id)
            : peers.allocation(map, node, epoch, id));
    }

    private interface CopyCall<T> {
        CopyReply<T> call(QueryResult.StorageMap map, String node, long epoch);
    }

    private <T> ObjectResult<T> readFirstGood(ObjectId id, CopyCall<T> call) {
        Retrying retrying = new Retrying(id);
        while (true) {
            QueryResult.StorageMap map = maps.currentKnowing(id.volumeId());
            long epoch = map.current().epoch();
            List<String> copies = selfFirst(maps.placement(map, map.current(), id));
            Map<String, ObjectError.Corrupt> badCopies = new LinkedHashMap<>();
            ObjectError firstError = null;
            String retryReason = copies.isEmpty() ? "no storage node is up" : null;
            for (String node : copies) {
                switch (call.call(map, node, epoch)) {
                    case CopyReply.Ok<T> ok -> {
                        badCopies.forEach((bad, damage) -> mendLater(map, epoch, id, bad, node, damage));
                        return ObjectResult.ok(ok.value());
                    }
                    case CopyReply.Failed<T> failed when failed.error() instanceof ObjectError.NotFound -> {
                        // that copy is current and absent, so every copy is (a store that lost an object's
                        // file answers that its copy is damaged, not absent)
                        return ObjectResult.failed(new ObjectError.NotFound(id));
                    }
                    case CopyReply.Failed<T> failed -> {
                        firstError = firstError == null ? failed.error() : firstError;
                        if (failed.error() instanceof ObjectError.Corrupt damage) {
                            badCopies.put(node, damage);
                            corruptCopiesSeen.incrementAndGet();
                        }
                        log.warn("copy of object {} on node {} failed: {}", id, node, failed.error().describe());
                    }
                    case CopyReply.Retry<T> retry -> retryReason = retry.reason();
                }
            }
            if (retryReason == null) {
                return ObjectResult.failed(firstError); // every copy answered, none well
            }
            if (!retrying.waitAfter(epoch, retryReason)) {
                return ObjectResult.failed(retrying.giveUp(retryReason));
            }
        }
    }

    // ---- changes: every copy, acknowledged when all have it ----

    @Override
    public ObjectResult<Done> write(ObjectId id, int offset, ByteBuffer source) {
        // Every copy (and every attempt) reads its own view of the same bytes: the caller's buffer is
        // not touched again until this returns, so no copy of the data is needed.
        ByteBuffer data = source.slice();
        source.position(source.limit());
        return changeEveryCopy(id, offset, data.remaining(), epoch -> local.write(epoch, id, offset, data.duplicate()),
            (map, node, epoch) -> peers.startWrite(map, node, epoch, id, offset, data.duplicate()));
    }

    @Override
    public ObjectResult<Done> writeZeroes(ObjectId id, int offset, int length, boolean allocate) {
        return changeEveryCopy(id, offset, length, epoch -> local.writeZeroes(epoch, id, offset, length, allocate),
            (map, node, epoch) -> peers.later(node, () -> peers.writeZeroes(map, node, epoch, id, offset, length, allocate)));
    }

    @Override
    public ObjectResult<Done> trim(ObjectId id, int offset, int length) {
        return changeEveryCopy(id, offset, length, epoch -> local.trim(epoch, id, offset, length),
            (map, node, epoch) -> peers.later(node, () -> peers.trim(map, node, epoch, id, offset, length)));
    }

    /** A change of this node's copy, for an epoch. */
    private interface LocalChange {
        CopyReply<Done> change(long epoch);
    }

    /** A change of another node's copy, started: the reply comes later. */
    private interface RemoteChange {
        ObjectPeers.Pending start(QueryResult.StorageMap map, String node, long epoch);
    }

    /** Makes a change of bytes [offset, offset + length) of the object on every copy. */
    private ObjectResult<Done> changeEveryCopy(ObjectId id, int offset, int length, LocalChange localChange,
                                               RemoteChange remoteChange) {
        Retrying retrying = new Retrying(id);
        while (true) {
            QueryResult.StorageMap map = maps.currentKnowing(id.volumeId());
            long epoch = map.current().epoch();
            List<String> copies = maps.placement(map, map.current(), id);
            Map<String, CopyReply<Done>> replies = onEveryNode(copies, () -> localChange.change(epoch),
                node -> remoteChange.start(map, node, epoch));
            if (!replies.isEmpty() && everyOk(replies.values())) {
                return ObjectResult.done(); // as nearly every change: none of what follows has work to do
            }
            String retryReason = copies.isEmpty() ? "no storage node is up" : null;
            String unanswered = null; // why a copy may still take this change later, if one may
            ObjectError failure = null;
            Map<String, ObjectError.Corrupt> corrupt = new LinkedHashMap<>();
            List<String> changed = new ArrayList<>();
            Map<String, ObjectError> refusedForSpace = new LinkedHashMap<>();
            for (Map.Entry<String, CopyReply<Done>> reply : replies.entrySet()) {
                switch (reply.getValue()) {
                    case CopyReply.Ok<Done> ignored -> changed.add(reply.getKey());
                    case CopyReply.Retry<Done> retry -> {
                        retryReason = retry.reason();
                        unanswered = retry.mayStillLand() ? retry.reason() : unanswered;
                    }
                    case CopyReply.Failed<Done> failed when failed.error() instanceof ObjectError.Corrupt damage -> {
                        corrupt.put(reply.getKey(), damage); // a partial write into a damaged block is refused: repair, then redo
                        corruptCopiesSeen.incrementAndGet();
                    }
                    case CopyReply.Failed<Done> failed when failed.error() instanceof ObjectError.NoSpace ->
                        refusedForSpace.put(reply.getKey(), failed.error());
                    case CopyReply.Failed<Done> failed -> failure = failure == null ? failed.error() : failure; // a failing disk
                }
            }
            if (!refusedForSpace.isEmpty()) {
                unanswered = putBackForSpace(map, epoch, id, offset, length, changed, refusedForSpace).orElse(unanswered);
            }
            if (unanswered != null) {
                // Answered or made again in this epoch, the change (or its undo) could be followed by the
                // client's next change of the same bytes, and then the late one land over it on that copy.
                // A new epoch makes every copy refuse what was sent in this one.
                log.warn("object {}: a change of bytes {}+{} got no answer in time ({}); it may still land, so the "
                    + "client is answered, or the change made again, only in a new storage epoch, which refuses the "
                    + "late one", id, offset, length, unanswered);
                if (!retrying.leaveEpoch(epoch, unanswered)) {
                    return ObjectResult.failed(retrying.giveUp(unanswered));
                }
            }
            if (failure != null) {
                return ObjectResult.failed(failure); // the client must know
            }
            if (!refusedForSpace.isEmpty()) {
                return ObjectResult.failed(refusedForSpace.values().iterator().next());
            }
            if (unanswered != null) {
                continue; // made again in the new epoch
            }
            if (retryReason == null && corrupt.isEmpty()) {
                return ObjectResult.done();
            }
            if (retryReason == null && !changed.isEmpty()) {
                String source = changed.get(0);
                corrupt.forEach((bad, damage) -> mendNow(map, epoch, id, bad, source, whatWasWrong(damage)));
                continue;
            }
            if (!retrying.waitAfter(epoch, retryReason == null ? "every copy is damaged" : retryReason)) {
                return ObjectResult.failed(retrying.giveUp(retryReason));
            }
        }
    }

    @Override
    public ObjectResult<Done> flush(Collection<ObjectId> objectIds) {
        if (objectIds.isEmpty()) {
            return ObjectResult.done();
        }
        Retrying retrying = new Retrying(objectIds.iterator().next());
        while (true) {
            QueryResult.StorageMap map = mapKnowingAll(objectIds);
            long epoch = map.current().epoch();
            Map<String, List<ObjectId>> byNode = new LinkedHashMap<>();
            for (ObjectId id : objectIds) {
                maps.placement(map, map.current(), id).forEach(node -> byNode.computeIfAbsent(node, n -> new ArrayList<>()).add(id));
            }
            Map<String, CopyReply<Done>> replies = onEveryNode(List.copyOf(byNode.keySet()), () -> local.flush(byNode.get(self)),
                node -> peers.startFlush(map, node, byNode.get(node)));
            String retryReason = null;
            for (CopyReply<Done> reply : replies.values()) {
                if (reply instanceof CopyReply.Failed<Done> failed) {
                    return ObjectResult.failed(failed.error());
                }
                if (reply instanceof CopyReply.Retry<Done> retry) {
                    retryReason = retry.reason();
                }
            }
            if (retryReason == null) {
                return ObjectResult.done();
            }
            if (!retrying.waitAfter(epoch, retryReason)) {
                return ObjectResult.failed(retrying.giveUp(retryReason));
            }
        }
    }

    // ---- helpers ----

    private QueryResult.StorageMap mapKnowingAll(Collection<ObjectId> objectIds) {
        QueryResult.StorageMap map = maps.current();
        for (ObjectId id : objectIds) {
            if (!StorageMaps.knowsVolumeOf(map, id)) {
                map = maps.currentKnowing(id.volumeId());
            }
        }
        return map;
    }

    /**
     * Starts the change on every other node, makes it on this node's copy meanwhile (when it holds
     * one), then collects the other nodes' replies. Over the object channel a start only sends the
     * request, so the caller, often an NBD worker, makes the whole change on its own thread: no hand-off
     * to another thread and back, which costs two wake-ups, more than a write to the page cache takes.
     */
    private Map<String, CopyReply<Done>> onEveryNode(List<String> nodes, Supplier<CopyReply<Done>> here,
                                                     Function<String, ObjectPeers.Pending> elsewhere) {
        if (nodes.size() == 1 && nodes.get(0).equals(self)) {
            return Map.of(self, here.get()); // one copy, here: nothing to fan out or collect
        }
        Map<String, ObjectPeers.Pending> pending = new LinkedHashMap<>();
        for (String node : nodes) {
            if (!node.equals(self)) {
                pending.put(node, elsewhere.apply(node));
            }
        }
        Map<String, CopyReply<Done>> replies = new LinkedHashMap<>();
        if (pending.size() < nodes.size()) {
            replies.put(self, here.get());
        }
        pending.forEach((node, reply) -> replies.put(node, reply.finish()));
        return replies;
    }

    private static boolean everyOk(Collection<CopyReply<Done>> replies) {
        for (CopyReply<Done> reply : replies) {
            if (!(reply instanceof CopyReply.Ok<Done>)) {
                return false;
            }
        }
        return true;
    }

    private List<String> selfFirst(List<String> placement) {
        if (!placement.contains(self) || placement.get(0).equals(self)) {
            return placement;
        }
        List<String> ordered = new ArrayList<>(placement.size());
        ordered.add(self);
        placement.stream().filter(node -> !node.equals(self)).forEach(ordered::add);
        return ordered;
    }

    /**
     * Some copies had no room for a change and refused it, unchanged; the others took it. The client
     * is told ENOSPC, so the unchanged content is the one to keep: on each copy that took the change,
     * the blocks it covered are put back as an unchanged copy has them ({@link ObjectService#restoreFrom}),
     * which needs no new space there (the change allocated them), and every read of the range answers
     * the same again. The rest of the copy stays: other changes in flight may be in it. Returns why a
     * node may still be putting the range back (it did not answer in time), if one may: the caller
     * answers the client only in a new epoch then, so that its next write of the range is not undone.
     */
    private Optional<String> putBackForSpace(QueryResult.StorageMap map, long epoch, ObjectId id, int offset, int length,
                                             List<String> changed, Map<String, ObjectError> refusedForSpace) {
        String unchanged = refusedForSpace.keySet().iterator().next();
        Optional<String> unanswered = Optional.empty();
        for (String node : changed) {
            CopyReply<Done> reply = node.equals(self) ? local.restoreFrom(epoch, id, unchanged, offset, length)
                : peers.restore(map, node, epoch, id, unchanged, offset, length);
            if (reply instanceof CopyReply.Ok<Done>) {
                log.warn("object {}: the copy on node {} took a write that node {} had no room for; that range was put "
                    + "back as node {} has it", id, node, unchanged, unchanged);
            } else {
                log.warn("object {}: the copy on node {} took a write that node {} had no room for, and could not put "
                    + "that range back: {}", id, node, unchanged, reply.describe());
                if (reply instanceof CopyReply.Retry<Done> retry && retry.mayStillLand()) {
                    unanswered = Optional.of(retry.reason());
                }
            }
        }
        return unanswered;
    }

    private void mendLater(QueryResult.StorageMap map, long epoch, ObjectId id, String damaged, String source,
                             ObjectError.Corrupt damage) {
        repairs.submit(() -> mendNow(map, epoch, id, damaged, source, whatWasWrong(damage)));
    }

    /** How a damaged copy is described in the log lines about its repair. */
    private static String whatWasWrong(ObjectError.Corrupt damage) {
        return switch (damage.blockIndex()) {
            case ObjectError.Corrupt.FILE_MISSING -> "lost its file";
            case ObjectError.Corrupt.TRAILER_DAMAGED -> "has a damaged trailer";
            default -> "failed its checksum";
        };
    }

    /** Mends a damaged copy's blocks from a good one ({@link ObjectService#mendFrom}). */
    private CopyReply<Done> mendNow(QueryResult.StorageMap map, long epoch, ObjectId id, String damaged, String source,
            String why) {
        CopyReply<Done> reply = damaged.equals(self) ? local.mendFrom(epoch, id, source)
            : peers.mend(map, damaged, epoch, id, source);
        if (reply instanceof CopyReply.Ok<Done>) {
            log.warn("object {}: the copy on node {} {} and was mended from node {}'s", id, damaged, why, source);
        } else {
            log.warn("object {}: the copy on node {} {} and could not be mended from node {}'s: {}", id, damaged, why,
                source, reply);
        }
        return reply;
    }

    // ---- checking every copy ----

    /**
     * What checking every copy of one object found: the nodes whose copy read well (or that, like
     * every other, hold no such object); those whose damaged copy was replaced by a good one; and, for
     * each copy that could not be checked or mended or is missing beside a good one, why.
     */
    record CopyCheck(List<String> good, List<String> repaired, Map<String, String> problems) {}

    /**
     * Has every node the epoch places the object on read and check its whole copy
     * ({@link ObjectService#verify}), and replaces each copy that fails its checksum with one that
     * passed before returning. A read reaches only the first copy that reads well; this reaches the
     * others, whose damage would otherwise show only once the good copy is lost.
     */
    CopyCheck check(ObjectId id) {
        QueryResult.StorageMap map = maps.currentKnowing(id.volumeId());
        long epoch = map.current().epoch();
        List<String> holders = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        Map<String, ObjectError.Corrupt> damaged = new LinkedHashMap<>();
        Map<String, String> problems = new LinkedHashMap<>();
        for (String node : selfFirst(maps.placement(map, map.current(), id))) {
            CopyReply<Done> reply = node.equals(self) ? local.verify(epoch, id) : peers.verify(map, node, epoch, id);
            switch (reply) {
                case CopyReply.Ok<Done> ok -> holders.add(node);
                case CopyReply.Failed<Done> failed when failed.error() instanceof ObjectError.NotFound -> absent.add(node);
                case CopyReply.Failed<Done> failed when failed.error() instanceof ObjectError.Corrupt damage -> {
                    damaged.put(node, damage);
                    corruptCopiesSeen.incrementAndGet();
                    log.warn("check of object {}: the copy on node {} failed: {}", id, node, failed.error().describe());
                }
                case CopyReply.Failed<Done> failed -> problems.put(node, failed.error().describe());
                case CopyReply.Retry<Done> retry -> problems.put(node, "not checked: " + retry.reason());
            }
        }
        List<String> good = new ArrayList<>(holders);
        if (holders.isEmpty()) {
            good.addAll(absent); // no node has it: the object was never written or was emptied, and reads as zeros
        } else {
            // Not mended: a trim that empties the object removes it from one copy after the other, and
            // copying it back between the two would leave the copies disagreeing for good.
            absent.forEach(node -> problems.put(node, "holds no copy while node " + holders.get(0) + "'s reads well; a "
                + "write or trim of the object at the same moment does this, so check again: if it stays, this copy "
                + "was lost (reads are served by the others), and restarting herd on node " + node + " brings its "
                + "copies up to date"));
        }
        List<String> repaired = new ArrayList<>();
        for (Map.Entry<String, ObjectError.Corrupt> copy : damaged.entrySet()) {
            String node = copy.getKey();
            String wrong = whatWasWrong(copy.getValue());
            if (holders.isEmpty()) {
                problems.put(node, "its copy " + wrong + " and no other copy read well to replace it");
                continue;
            }
            CopyReply<Done> repair = mendNow(map, epoch, id, node, holders.get(0), wrong);
            if (repair instanceof CopyReply.Ok<Done>) {
                repaired.add(node);
            } else {
                problems.put(node, "its copy " + wrong + " and could not be mended from node " + holders.get(0)
                    + "'s: " + repair.describe());
            }
        }
        return new CopyCheck(List.copyOf(good), List.copyOf(repaired), Collections.unmodifiableMap(problems));
    }

    /**
     * The waiting between attempts of one operation: short pauses, a new epoch when one comes, a
     * deadline {@link #GIVE_UP_AFTER} after the first wait. Every operation makes one, and most never
     * wait, so the clock is read only once one does.
     */
    private final class Retrying {
        private final ObjectId id;
        private long pauseMillis = 20;
        /** Whether this operation has waited: the deadline is set and the first wait logged. */
        private boolean waited;
        private long deadline;

        Retrying(ObjectId id) {
            this.id = id;
        }

        /** Waits for a new epoch (or a short pause); false when the deadline has passed. */
        boolean waitAfter(long epoch, String reason) {
            if (!waited) {
                deadline = System.nanoTime() + GIVE_UP_AFTER.toNanos();
                log.info("object {} waits for the cluster: {}", id, reason);
                waited = true;
            } else if (System.nanoTime() > deadline) {
                return false;
            }
            maps.awaitEpochAfter(epoch, Duration.ofMillis(pauseMillis));
            pauseMillis = Math.min(pauseMillis * 2, 500);
            return true;
        }

        /**
         * Has the cluster end {@code epoch} (a change got no answer: {@link StorageMaps#renewEpoch}) and
         * waits until a later epoch has begun, asking again while the cluster could not be asked; false
         * when the deadline passed first.
         */
        boolean leaveEpoch(long epoch, String noAnswer) {
            String reason = "a change of object " + id + " got no answer in time: " + noAnswer;
            maps.renewEpoch(self, epoch, reason);
            while (maps.epoch() <= epoch) {
                if (!waitAfter(epoch, noAnswer)) {
                    return false;
                }
                if (maps.epoch() <= epoch) {
                    maps.renewEpoch(self, epoch, reason);
                }
            }
            return true;
        }

        ObjectError giveUp(String reason) {
            return new ObjectError.IoFailure(id, "no copy could be reached for " + GIVE_UP_AFTER.toSeconds() + " s: " + reason);
        }
    }
}
