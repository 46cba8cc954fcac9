package herd.server.storage;

import herd.blockcore.ObjectId;
import herd.core.command.Command;
import herd.core.command.QueryResult;
import herd.server.ClusterAccess;
import herd.server.api.ApiException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery on this node, Sheepdog's way: after every epoch change, each node brings every object the
 * new ring places on it up to date ({@link ObjectService#ensureCurrent}: fetched from the node with the
 * newest copy when its own is missing or old), at a limited rate, while I/O goes on. Then it commits
 * that it recovered the epoch. Once every node of the epoch has, copies the ring no longer places on
 * this node are dropped: their replacements are complete by then.
 *
 * <p>The objects to look at are the ones this node holds and the ones the other nodes of the epoch
 * hold (asked for their lists), so an object survives as long as any up node has a copy.
 */
final class StorageRecovery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StorageRecovery.class);
    /** How often a node deletes its copies of objects no volume reads any more (deleted or rolled back). */
    private static final long RECLAIM_EVERY_MILLIS = 5_000;
    /** Objects brought up to date at once: copies overlap their network and disk waits. */
    private static final int PARALLEL_COPIES = 4;
    /** Pause between looks at the storage map when there is nothing to do. */
    private static final long IDLE_MILLIS = 500;

    /** Progress of the current or last pass, for {@code herd storage status}. */
    record Progress(long epoch, String state, long objectsTotal, long objectsDone, long bytesCopied, long startedMillis,
                    long finishedMillis) {
        double bytesPerSecond() {
            long end = finishedMillis > 0 ? finishedMillis : System.currentTimeMillis();
            long elapsed = Math.max(1, end - startedMillis);
            return bytesCopied * 1000.0 / elapsed;
        }

        long objectsToGo() {
            return Math.max(0, objectsTotal - objectsDone);
        }
    }

    private final String self;
    private final ObjectService service;
    private final StorageMaps maps;
    private final ObjectPeers peers;
    private final ClusterAccess cluster;
    private final long bytesPerSecondLimit;
    private final Thread worker;
    private volatile boolean closed;
    private volatile Progress progress = new Progress(0, "idle", 0, 0, 0, System.currentTimeMillis(), 0);
    private long recoveredEpoch = -1;
    private long trimmedEpoch = -1;
    private long nextReclaimMillis;

    StorageRecovery(String self, ObjectService service, StorageMaps maps, ObjectPeers peers, ClusterAccess cluster,
                    long bytesPerSecondLimit) {
        this.self = self;
        this.service = service;
        this.maps = maps;
        this.peers = peers;
        this.cluster = cluster;
        this.bytesPerSecondLimit = bytesPerSecondLimit;
        this.worker = Thread.ofPlatform().daemon().name("herd-storage-recovery").unstarted(this::run);
    }

    void start() {
        worker.start();
    }

    Progress progress() {
        return progress;
    }

    private void run() {
        while (!closed) {
            try {
                QueryResult.StorageMap map = maps.current();
                long epoch = map.current().epoch();
                if (map.current().hasMember(self) && recoveredEpoch != epoch) {
                    if (recover(map)) {
                        recoveredEpoch = epoch;
                    }
                } else if (recoveredEpoch == epoch && trimmedEpoch != epoch && everyMemberRecovered(map)) {
                    dropSurplus(map);
                    trimmedEpoch = epoch;
                } else if (System.currentTimeMillis() >= nextReclaimMillis) {
                    reclaim();
                    nextReclaimMillis = System.currentTimeMillis() + RECLAIM_EVERY_MILLIS;
                }
                StorageMaps.sleepQuietly(IDLE_MILLIS);
            } catch (RuntimeException e) {
                log.warn("storage recovery pass failed, trying again: {}", e.toString());
                StorageMaps.sleepQuietly(IDLE_MILLIS * 4);
            }
        }
    }

    /** One pass over the epoch; true when every object placed here is current and the cluster knows it. */
    private boolean recover(QueryResult.StorageMap map) {
        long epoch = map.current().epoch();
        List<ObjectId> placedHere = objectsPlacedHere(map);
        if (placedHere == null) {
            return false;
        }
        long started = System.currentTimeMillis();
        long pulledBefore = service.bytesPulled();
        progress = new Progress(epoch, "recovering", placedHere.size(), 0, 0, started, 0);
        if (!placedHere.isEmpty()) {
            log.info("recovery of epoch {}: {} objects placed on this node to check", epoch, placedHere.size());
        }
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
        try (var workers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(PARALLEL_COPIES);
            for (ObjectId id : placedHere) {
                slots.acquireUninterruptibly();
                if (stopped.get() || closed || maps.epoch() != epoch) {
                    slots.release();
                    stopped.set(true); // a newer epoch: its own pass starts over
                    break;
                }
                workers.submit(() -> {
                    try {
                        if (!bringUpToDate(epoch, id)) {
                            stopped.set(true);
                            return;
                        }
                        long copied = service.bytesPulled() - pulledBefore;
                        progress = new Progress(epoch, "recovering", placedHere.size(), done.incrementAndGet(), copied,
                            started, 0);
                        RateLimit.pause(copied, started, bytesPerSecondLimit);
                    } finally {
                        slots.release();
                    }
                });
            }
        }
        if (stopped.get()) {
            return false;
        }
        try {
            cluster.submit(new Command.ReportStorageRecovered(self, epoch));
        } catch (ApiException e) {
            return false;
        }
        Progress finished = new Progress(epoch, "complete", placedHere.size(), done.get(), service.bytesPulled() - pulledBefore,
            started, System.currentTimeMillis());
        progress = finished;
        if (finished.bytesCopied() > 0) {
            log.info("recovery of epoch {} complete: {} objects checked, {} bytes copied at {} bytes/s", epoch,
                done.get(), finished.bytesCopied(), (long) finished.bytesPerSecond());
        }
        return true;
    }

    /** One object of the pass; false when the pass must stop (a node cannot answer, or a copy failed). */
    private boolean bringUpToDate(long epoch, ObjectId id) {
        CopyReply<?> reply = service.ensureCurrent(epoch, id);
        if (reply instanceof CopyReply.Retry<?> retry) {
            log.info("recovery of epoch {} waits: {}", epoch, retry.reason());
            return false;
        }
        if (reply instanceof CopyReply.Failed<?> failed) {
            log.warn("recovery of epoch {}: object {} could not be brought up to date: {}", epoch, id, failed.error().describe());
            return false;
        }
        return true;
    }

    /** Sorted ids of every object an up node holds that this epoch places here; null when a node did not answer. */
    private List<ObjectId> objectsPlacedHere(QueryResult.StorageMap map) {
        Set<ObjectId> all = new TreeSet<>(service.list());
        for (var member : map.current().members()) {
            if (member.name().equals(self)) {
                continue;
            }
            CopyReply<List<ObjectId>> listed = peers.list(map, member.name());
            if (!(listed instanceof CopyReply.Ok<List<ObjectId>> ok)) {
                log.info("recovery of epoch {} waits for node {}'s object list: {}", map.current().epoch(), member.name(), listed);
                return null;
            }
            all.addAll(ok.value());
        }
        return all.stream().filter(id -> maps.placement(map, map.current(), id).contains(self)).toList();
    }

    private boolean everyMemberRecovered(QueryResult.StorageMap map) {
        long epoch = map.current().epoch();
        return map.current().members().stream()
            .allMatch(member -> map.recoveredEpochs().getOrDefault(member.name(), -1L) >= epoch);
    }

    private void dropSurplus(QueryResult.StorageMap map) {
        int dropped = 0;
        for (ObjectId id : service.list()) {
            if (maps.epoch() != map.current().epoch()) {
                return;
            }
            if (service.dropIfSurplus(map, id)) {
                dropped++;
            }
        }
        if (dropped > 0) {
            log.info("epoch {}: dropped {} copies placed elsewhere now that every node recovered", map.current().epoch(), dropped);
        }
    }

    /**
     * Deletes local copies of the objects the cluster state names reclaimable. Such an object is
     * never written again (volume ids are not reused), so deleting it races with nothing.
     */
    private void reclaim() {
        QueryResult.Reclaimable reclaimable;
        List<ObjectId> held;
        try {
            if (!(cluster.query(new herd.core.command.Query.ReclaimableObjects(), false)
                    instanceof QueryResult.Reclaimable answer)) {
                return;
            }
            reclaimable = answer;
            held = service.list();
        } catch (ApiException e) {
            log.debug("reclamation skipped: {}", e.toString());
            return;
        }
        int deleted = 0;
        for (ObjectId id : held) {
            if (reclaimable.includes(id) && service.reclaim(id)) {
                deleted++;
            }
        }
        if (deleted > 0) {
            log.info("reclaimed {} objects that no volume or snapshot reads any more", deleted);
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
    }
}
