package herd.server.storage;

import herd.blockcore.ObjectId;
import herd.blockcore.placement.Ring;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.storage.StorageEpoch;
import herd.core.storage.StorageNodeView;
import herd.core.storage.StorageTable;
import herd.server.ClusterAccess;
import herd.server.api.ApiException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copy of the storage map (storage nodes, epochs, copies per volume), refreshed from the
 * cluster state every {@link #REFRESH_MILLIS} and whenever the data path meets a newer epoch, and
 * the placement of objects computed from it. The rings of the kept epochs are built once each.
 */
final class StorageMaps implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StorageMaps.class);
    static final long REFRESH_MILLIS = 500;

    private final ClusterAccess cluster;
    private final Map<Long, Ring> ringsByEpoch = new ConcurrentHashMap<>();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "herd-storage-map");
        thread.setDaemon(true);
        return thread;
    });
    /** Told the number of each new epoch this node learns of. */
    private final List<LongConsumer> epochListeners = new CopyOnWriteArrayList<>();
    /** The last epoch the cluster renewed at this node's request. */
    private volatile long renewedEpoch = -1;
    private volatile QueryResult.StorageMap current =
        new QueryResult.StorageMap(1, List.of(), Map.of(), List.of(), Map.of(), 0);

    StorageMaps(ClusterAccess cluster) {
        this.cluster = cluster;
        refresher.scheduleWithFixedDelay(this::refreshQuietly, 0, REFRESH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Calls {@code listener} with each new epoch's number as this node learns of it. */
    void onNewEpoch(LongConsumer listener) {
        epochListeners.add(listener);
    }

    QueryResult.StorageMap current() {
        return current;
    }

    long epoch() {
        return current.current().epoch();
    }

    /**
     * Waiting I/O refreshes often (every request that met a lost node does): one read of the cluster
     * state per this many milliseconds serves them all.
     */
    private static final long MIN_REFRESH_GAP_MILLIS = 20;
    private volatile long lastRefreshNanos = System.nanoTime() - 1_000_000_000L; // the first call refreshes

    /** Reads the map from the cluster state now (or uses one read a moment ago); false when the cluster cannot answer. */
    boolean refresh() {
        long now = System.nanoTime();
        if (now - lastRefreshNanos < MIN_REFRESH_GAP_MILLIS * 1_000_000) {
            return true;
        }
        lastRefreshNanos = now;
        try {
            if (cluster.query(new Query.StorageMap(), false) instanceof QueryResult.StorageMap fresh) {
                synchronized (this) {
                    if (fresh.lastAppliedIndex() >= current.lastAppliedIndex()) {
                        if (fresh.current().epoch() != current.current().epoch()) {
                            log.info("storage epoch {}: {}{}", fresh.current().epoch(), describe(fresh.current()),
                                describeLeftOut(fresh));
                            epochListeners.forEach(listener -> listener.accept(fresh.current().epoch()));
                        }
                        if (!sameContent(fresh, current)) {
                            current = fresh; // kept otherwise, so that the placements computed from it stay cached
                        }
                        notifyAll();
                    }
                }
                return true;
            }
        } catch (ApiException | RuntimeException e) {
            log.debug("storage map not refreshed: {}", e.toString());
        }
        return false;
    }

    private static boolean sameContent(QueryResult.StorageMap a, QueryResult.StorageMap b) {
        return a.defaultCopies() == b.defaultCopies() && a.epochs().equals(b.epochs())
            && a.recoveredEpochs().equals(b.recoveredEpochs()) && a.nodes().equals(b.nodes())
            && a.copiesByVolumeId().equals(b.copiesByVolumeId());
    }

    private void refreshQuietly() {
        refresh();
    }

    /** Waits until this node knows an epoch at least {@code epoch}; false when it did not within the timeout. */
    boolean awaitEpoch(long epoch, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (epoch() < epoch) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            refresh();
            if (epoch() < epoch) {
                sleepQuietly(50);
            }
        }
        return true;
    }

    /**
     * Asks the cluster to end {@code epoch} and begin the next with the same members, unless this
     * node already knows a later one; the cluster does it once however many ask. False when the
     * cluster could not be asked (no leader, or this node is on the minority side): the caller
     * keeps waiting, and changes nothing meanwhile.
     */
    boolean renewEpoch(String node, long epoch, String reason) {
        if (epoch() > epoch || renewedEpoch >= epoch) {
            return true; // begun, or asked for by another operation: the refresh brings it
        }
        String said = reason.length() <= StorageTable.MAX_REASON_CHARS ? reason
            : reason.substring(0, StorageTable.MAX_REASON_CHARS);
        try {
            Outcome outcome = cluster.submit(new Command.RenewStorageEpoch(node, epoch, said));
            if (outcome instanceof Outcome.Rejected rejected) {
                log.warn("the cluster refused to renew storage epoch {}: {}", epoch, rejected.rejection().message());
                return false;
            }
            renewedEpoch = Math.max(renewedEpoch, epoch);
            return true;
        } catch (ApiException e) {
            log.warn("cannot ask the cluster to renew storage epoch {}: {}", epoch, e.getMessage());
            return false;
        }
    }

    /** Waits until the epoch moves past {@code epoch} (a lost node was taken out); false on timeout. */
    boolean awaitEpochAfter(long epoch, Duration timeout) {
        return awaitEpoch(epoch + 1, timeout);
    }

    Ring ring(StorageEpoch epoch) {
        return ringsByEpoch.computeIfAbsent(epoch.epoch(), e -> {
            if (ringsByEpoch.size() > 2 * herd.core.storage.StorageTable.KEPT_EPOCHS) {
                ringsByEpoch.clear();
            }
            return epoch.ring();
        });
    }

    /** How long the data path waits for this node's map to learn of a volume it has not seen yet. */
    static final Duration UNKNOWN_VOLUME_WAIT = Duration.ofSeconds(5);

    /**
     * The current map, once it knows how many copies {@code volumeId} keeps. A volume created (or
     * cloned, or rolled back) a moment ago may not be in this node's copy of the map yet, and placing
     * its objects by the cluster's default copies would write fewer copies than the volume asked for.
     * After {@link #UNKNOWN_VOLUME_WAIT} the map is returned as it is: the objects of a deleted
     * ancestor, which clones still read, are the only ones no map knows.
     */
    QueryResult.StorageMap currentKnowing(int volumeId) {
        QueryResult.StorageMap map = current;
        if (map.copiesByVolumeId().containsKey(volumeId)) {
            return map; // every I/O asks: no clock read when the answer is at hand
        }
        long deadline = System.nanoTime() + UNKNOWN_VOLUME_WAIT.toNanos();
        while (!current.copiesByVolumeId().containsKey(volumeId) && System.nanoTime() < deadline) {
            refresh();
            if (!current.copiesByVolumeId().containsKey(volumeId)) {
                sleepQuietly(MIN_REFRESH_GAP_MILLIS);
            }
        }
        return current;
    }

    static boolean knowsVolumeOf(QueryResult.StorageMap map, ObjectId objectId) {
        return map.copiesByVolumeId().containsKey(objectId.volumeId());
    }

    /** Copies the object keeps: its volume's, or the cluster's default for an unknown volume. */
    static int copies(QueryResult.StorageMap map, ObjectId objectId) {
        return map.copiesByVolumeId().getOrDefault(objectId.volumeId(), map.defaultCopies());
    }

    /**
     * The nodes that hold the object in {@code epoch}: its copies, or fewer when fewer zones are up
     * (a degraded volume keeps what it can until the zones come back).
     */
    List<String> placement(QueryResult.StorageMap map, StorageEpoch epoch, ObjectId objectId) {
        if (epoch.epoch() != map.current().epoch()) {
            return computePlacement(map, epoch, objectId);
        }
        PlacementCache cache = placementCache;
        if (cache.map != map) { // a new map (new epoch, or copies changed): start a new cache
            cache = new PlacementCache(map);
            placementCache = cache;
        }
        List<String> cached = cache.byObject.get(objectId); // no bin lock on a hit, unlike computeIfAbsent
        if (cached != null) {
            return cached;
        }
        if (cache.byObject.size() >= MAX_CACHED_PLACEMENTS) {
            cache.byObject.clear(); // not inside computeIfAbsent, which must not change other mappings
        }
        return cache.byObject.computeIfAbsent(objectId, id -> computePlacement(map, epoch, id));
    }

    private List<String> computePlacement(QueryResult.StorageMap map, StorageEpoch epoch, ObjectId objectId) {
        Ring ring = ring(epoch);
        int copies = Math.min(copies(map, objectId), ring.zoneCount());
        return copies == 0 ? List.of() : ring.placement(objectId, copies);
    }

    /** Placements in the current map: every I/O needs its object's, and the ring walk is not free. */
    private record PlacementCache(QueryResult.StorageMap map, Map<ObjectId, List<String>> byObject) {
        PlacementCache(QueryResult.StorageMap map) {
            this(map, new ConcurrentHashMap<>());
        }
    }

    /** Bounds the cache: 64k placements of 4 MiB objects cover 256 GiB of hot data. */
    private static final int MAX_CACHED_PLACEMENTS = 65_536;
    private volatile PlacementCache placementCache = new PlacementCache(current);

    /** Nodes of the current epoch that any kept epoch placed the object on: where its copies may be. */
    Set<String> possibleHolders(QueryResult.StorageMap map, ObjectId objectId) {
        StorageEpoch now = map.current();
        Set<String> holders = new LinkedHashSet<>();
        for (int i = map.epochs().size() - 1; i >= 0; i--) {
            for (String node : placement(map, map.epochs().get(i), objectId)) {
                if (now.hasMember(node)) {
                    holders.add(node);
                }
            }
        }
        return holders;
    }

    static Optional<StorageNodeView> node(QueryResult.StorageMap map, String name) {
        return map.nodes().stream().filter(n -> n.name().equals(name)).findFirst();
    }

    private static String describe(StorageEpoch epoch) {
        return epoch.members().isEmpty() ? "no storage nodes"
            : String.join(", ", epoch.members().stream().map(m -> m.name() + " (zone " + m.zone() + ")").toList());
    }

    /**
     * {@code ; cut off: s2 (s1, s3 cannot reach its data path); out: s3 (its store does not answer: an
     * operation on its store has waited 12 s)}, or nothing.
     */
    private static String describeLeftOut(QueryResult.StorageMap map) {
        List<String> cutOff = map.nodes().stream().filter(StorageNodeView::isCutOff)
            .map(node -> node.name() + " (" + String.join(", ", node.cutOffBy()) + " cannot reach its data path)").toList();
        List<String> stalled = map.nodes().stream()
            .filter(node -> !node.stall().isEmpty() && !node.isCutOff() && node.membership().equals("MEMBER")
                && !map.current().hasMember(node.name()))
            .map(node -> node.name() + " (its store does not answer: " + node.stall() + ")").toList();
        return (cutOff.isEmpty() ? "" : "; cut off: " + String.join(", ", cutOff))
            + (stalled.isEmpty() ? "" : "; out: " + String.join(", ", stalled));
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
