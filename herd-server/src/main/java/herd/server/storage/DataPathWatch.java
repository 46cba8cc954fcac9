package herd.server.storage;

import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.QueryResult;
import herd.core.storage.StorageNodeView;
import herd.server.ClusterAccess;
import herd.server.api.ApiException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches this node's part of the data path: whether it reaches the other up storage nodes' object
 * service, and whether its own store answers; and tells the cluster ({@code ReportUnreachableStorage},
 * {@code ReportStoreStall}). A node that heartbeats but whose object service does not answer (its
 * object channel cut, its process wedged) would otherwise stay in the storage epoch, and every
 * change to its copies would wait for it and fail; the cluster cuts such a node off once the
 * majority of storage nodes report it, and lets it back in once they reach it again (see
 * {@code StorageTable}), so one node's bad link takes out nobody.
 *
 * <p>Each node is probed every {@link #PROBE_EVERY} on a connection of its own with a short timeout
 * (an empty flush: the node's channel server answers it without touching the disk), so the probe
 * neither waits behind the data path's requests nor for the data path's 10 s timeout.
 *
 * <p>A node whose disk hangs answers probes (its channel server does not touch the disk for them)
 * while every change to its copies waits, so it looks at its own store too: when an operation on
 * it has waited {@link #STALL_AFTER} or more, at three looks in a row, the node tells the cluster
 * that its store does not answer, and the cluster takes it out of the epoch (one such node at a
 * time); after three looks that find no such wait it says that its store answers again, and is let
 * back in, which brings its copies up to date as any return does.
 */
final class DataPathWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DataPathWatch.class);

    static final Duration PROBE_EVERY = Duration.ofSeconds(1);
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    /**
     * A standing report is said again this often: the cluster forgets a node's report when that node
     * is cut off and let back in, or was down, and it must then hear it again.
     */
    static final Duration REPEAT_EVERY = Duration.ofSeconds(10);
    /**
     * An operation on the store waiting this long means that the disk hangs: far longer than a disk
     * in working order takes for one request, even a busy one. With the looks in a row the node says
     * so about 10 s after the operation began, when other nodes give up on a change to its copies.
     */
    static final Duration STALL_AFTER = Duration.ofSeconds(8);

    private final String self;
    private final StorageMaps maps;
    private final ClusterAccess cluster;
    private final ObjectPeers probes;
    private final Reachability reachability = new Reachability();
    /** How long the oldest operation on this node's store has waited (see {@code ObjectStore.longestWait}). */
    private final Supplier<Duration> longestStoreWait;
    /** The same rule of three in a row, for this node's own store: "unreachable" when it does not answer. */
    private final Reachability ownStore = new Reachability();
    /** Platform threads: a connection a virtual thread used is not kept, and each probe would connect anew. */
    private final ExecutorService probing = Executors.newCachedThreadPool(
        runnable -> Thread.ofPlatform().daemon().name("herd-data-path-probe").unstarted(runnable));
    private final Thread worker;
    /** What the cluster last accepted from this node, or null before its first report. */
    private Set<String> reported;
    private long reportedNanos;
    /** Whether the cluster last heard that this node's store does not answer, or null before the first word. */
    private Boolean reportedStalled;
    private long reportedStallNanos;
    private volatile boolean closed;

    DataPathWatch(String self, StorageMaps maps, ClusterAccess cluster, String nodeToken, Supplier<Duration> longestStoreWait) {
        this.self = self;
        this.longestStoreWait = longestStoreWait;
        this.maps = maps;
        this.cluster = cluster;
        this.probes = new ObjectPeers(nodeToken, PROBE_TIMEOUT);
        this.worker = Thread.ofPlatform().daemon().name("herd-data-path-watch").unstarted(this::run);
    }

    void start() {
        worker.start();
    }

    private void run() {
        while (!closed) {
            try {
                QueryResult.StorageMap map = maps.current();
                List<String> targets = probeTargets(map);
                reachability.retain(targets);
                probeAll(map, targets).forEach(this::record);
                reportIfDue();
                lookAtOwnStore();
            } catch (RuntimeException e) {
                log.warn("watching the other nodes' data path failed, trying again: {}", e.toString());
            }
            StorageMaps.sleepQuietly(PROBE_EVERY.toMillis());
        }
    }

    /** The other storage nodes that heartbeat, in the epoch or cut off from it. */
    private List<String> probeTargets(QueryResult.StorageMap map) {
        return map.nodes().stream().filter(node -> node.membership().equals("MEMBER")).map(StorageNodeView::name)
            .filter(name -> !name.equals(self)).toList();
    }

    /** Every target probed at once; each answer is empty when the node answered, else why it did not. */
    private Map<String, Optional<String>> probeAll(QueryResult.StorageMap map, List<String> targets) {
        Map<String, Future<Optional<String>>> pending = new TreeMap<>();
        for (String node : targets) {
            pending.put(node, probing.submit(() -> probes.probe(map, node)));
        }
        Map<String, Optional<String>> answers = new TreeMap<>();
        pending.forEach((node, answer) -> answers.put(node, waitFor(answer, node)));
        return answers;
    }

    private static Optional<String> waitFor(Future<Optional<String>> answer, String node) {
        try {
            return answer.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while probing node " + node);
        } catch (ExecutionException e) {
            return Optional.of("probing node " + node + " failed: " + e.getCause());
        }
    }

    private void record(String node, Optional<String> failure) {
        switch (reachability.record(node, failure.isEmpty())) {
            case LOST -> log.warn("node {}'s data path did not answer {} probes in a row ({}): telling the cluster", node,
                Reachability.PROBES_TO_CHANGE, failure.orElse(""));
            case FOUND -> log.info("node {}'s data path answers again: telling the cluster", node);
            case SAME -> { }
        }
    }

    /** Tells the cluster what this node cannot reach when that changed, and again now and then while it is not nothing. */
    private void reportIfDue() {
        Set<String> unreachable = reachability.unreachable();
        boolean repeat = !unreachable.isEmpty() && System.nanoTime() - reportedNanos > REPEAT_EVERY.toNanos();
        if (unreachable.equals(reported) && !repeat) {
            return;
        }
        try {
            Outcome outcome = cluster.submit(new Command.ReportUnreachableStorage(self, List.copyOf(unreachable)));
            if (outcome instanceof Outcome.Rejected rejected) {
                log.debug("the cluster refused this node's report of unreachable nodes: {}", rejected.rejection().message());
                return; // not registered yet, or a node left meanwhile: the next round reports afresh
            }
            reported = unreachable;
            reportedNanos = System.nanoTime();
        } catch (ApiException e) {
            log.debug("cannot tell the cluster which nodes this node cannot reach: {}", e.getMessage());
        }
    }

    /** Whether this node's store answers, told to the cluster when that changed and again now and then while it does not. */
    private void lookAtOwnStore() {
        Duration wait = longestStoreWait.get();
        switch (ownStore.record(self, wait.compareTo(STALL_AFTER) < 0)) {
            case LOST -> log.error("this node's store does not answer: an operation on it has waited {} s (its disk hangs?); "
                + "telling the cluster to take this node out of the storage epoch", wait.toSeconds());
            case FOUND -> log.info("this node's store answers again: telling the cluster");
            case SAME -> { }
        }
        boolean stalled = !ownStore.unreachable().isEmpty();
        boolean repeat = stalled && System.nanoTime() - reportedStallNanos > REPEAT_EVERY.toNanos();
        if (Boolean.valueOf(stalled).equals(reportedStalled) && !repeat) {
            return;
        }
        String stall = stalled ? "an operation on its store has waited " + wait.toSeconds() + " s" : "";
        try {
            Outcome outcome = cluster.submit(new Command.ReportStoreStall(self, stall));
            if (outcome instanceof Outcome.Rejected rejected) {
                log.debug("the cluster refused this node's word about its store: {}", rejected.rejection().message());
                return; // not registered yet: the next look says it again
            }
            reportedStalled = stalled;
            reportedStallNanos = System.nanoTime();
        } catch (ApiException e) {
            log.debug("cannot tell the cluster whether this node's store answers: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        probing.shutdownNow();
        probes.close();
    }
}
