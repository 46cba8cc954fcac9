package herd.core;

import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.CommandValidator;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.kv.KvStore;
import herd.core.resource.NodeStatus;
import herd.core.resource.ResourceStatusTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The single source of truth of a herd cluster: commands in, state out. Pure and deterministic:
 * no clock, no I/O, no randomness, so every server that applies the same log holds the same state.
 * Not thread-safe; the replicated application around it serialises access.
 */
public final class ClusterState {
    private String clusterName = "";
    private final KvStore kv;
    private final Map<String, NodeInfo> nodes = new TreeMap<>();
    private long lastAppliedIndex;
    /** The index of the last applied command the resource coordinator decides from (not kept in images). */
    private long resourceChangeIndex;
    /** The resource configuration in crm shell syntax, and how many times it was replaced. */
    private String resourceConfiguration = "";
    private long resourceConfigurationVersion;
    /** True from an InitCluster that restores a backup until its last batch of keys. */
    private boolean restoring;
    /** Every node's membership and resource history, and recent fencing results. */
    private final ResourceStatusTable resourceStatus = new ResourceStatusTable();
    /** The volume catalog and every volume's inode. */
    private final herd.core.volume.VolumeTable volumes = new herd.core.volume.VolumeTable();
    /** Storage nodes, the default copies and the storage epochs. */
    private final herd.core.storage.StorageTable storage = new herd.core.storage.StorageTable();
    /**
     * Removed nodes that may still run something until their lease runs out: a leader that takes
     * over cannot know when its predecessor last acknowledged them, so it starts nothing until a
     * lease has passed since it took over ({@link Command.ForgetRemovedNode} ends the wait).
     */
    private final java.util.SortedSet<String> removedNodesInLease = new java.util.TreeSet<>();

    public ClusterState() {
        this(new KvStore());
    }

    private ClusterState(KvStore kv) {
        this.kv = kv;
    }

    public long lastAppliedIndex() {
        return lastAppliedIndex;
    }

    public String clusterName() {
        return clusterName;
    }

    public KvStore kv() {
        return kv;
    }

    public List<NodeInfo> nodes() {
        return List.copyOf(nodes.values());
    }

    public Optional<NodeInfo> node(String name) {
        return Optional.ofNullable(nodes.get(name));
    }

    /** Applies the command of log entry {@code index}. A rejected command changes nothing but the index. */
    public Outcome apply(long index, Command command) {
        if (index <= lastAppliedIndex) {
            throw new IllegalStateException("log entry " + index + " applied after " + lastAppliedIndex
                + ": entries must be applied once, in order");
        }
        lastAppliedIndex = index;
        Optional<Rejection> invalid = CommandValidator.validate(command);
        if (invalid.isPresent()) {
            return new Outcome.Rejected(invalid.get());
        }
        if (restoring && (command instanceof Command.KvPut || command instanceof Command.KvDelete)) {
            return new Outcome.Rejected(new Rejection(ErrorCode.UNAVAILABLE,
                "the cluster is restoring a backup: retry in a moment"));
        }
        Outcome outcome = applyValid(command);
        if (outcome instanceof Outcome.Applied && changesStorageMembership(command)) {
            storage.refresh(nodes, upNodes());
        }
        if (outcome instanceof Outcome.Applied && concernsResources(command)) {
            resourceChangeIndex = index;
        }
        return outcome;
    }

    private Outcome applyValid(Command command) {
        return switch (command) {
            case Command.KvPut put -> kv.put(put.key(), put.value(), put.expectRevision());
            case Command.KvDelete delete -> kv.delete(delete.key(), delete.expectRevision());
            case Command.RestoreKeys restore -> restoreKeys(restore);
            case Command.SetResourceConfiguration set -> setResourceConfiguration(set);
            case Command.InitCluster init -> initCluster(init);
            case Command.RegisterNode register -> registerNode(register.node());
            case Command.RemoveNode remove -> removeNode(remove.name());
            case Command.ForgetRemovedNode forget -> forgetRemovedNode(forget.name());
            case Command.RecordOperations record -> recordOperations(record);
            case Command.SetNodeMembership set -> setNodeMembership(set);
            case Command.RecordFencing fencing -> recordFencing(fencing.event());
            case Command.CleanupResource cleanup -> cleanupResource(cleanup);
            case Command.CreateVolume create -> createVolume(create);
            case Command.ResizeVolume resize -> volumes.resize(resize);
            case Command.DeleteVolume delete -> volumes.delete(delete);
            case Command.SnapshotVolume snapshot -> volumes.snapshot(snapshot);
            case Command.CloneVolume clone -> cloneVolume(clone);
            case Command.RollbackVolume rollback -> volumes.rollback(rollback);
            // a node the cluster does not know (removed, say) could be neither asked to detach nor fenced
            case Command.AttachVolume attach -> onKnownNode(attach.node(), () -> volumes.attach(attach));
            case Command.DetachVolume detach -> volumes.detach(detach);
            case Command.SetInodeEntries set -> volumes.setInodeEntries(set);
            case Command.RegisterStorage register ->
                onKnownNode(register.node(), () -> storage.register(register.node(), register.capacityBytes()));
            case Command.SetStorageDefaults defaults -> storage.setDefaultCopies(defaults.copies(), nodes);
            case Command.ReportStorageRecovered recovered ->
                onKnownNode(recovered.node(), () -> storage.recovered(recovered.node(), recovered.epoch()));
            case Command.RenewStorageEpoch renew ->
                onKnownNode(renew.node(), () -> storage.renew(renew.epoch(), renew.node(), renew.reason()));
            case Command.ReportUnreachableStorage report ->
                onKnownNode(report.node(), () -> storage.reportUnreachable(report.node(), report.unreachable()));
            case Command.ReportStoreStall stall -> onKnownNode(stall.node(), () -> storage.reportStall(stall.node(), stall.stall()));
        };
    }

    private Outcome onKnownNode(String node, java.util.function.Supplier<Outcome> change) {
        return unknownNode(node).<Outcome>map(Outcome.Rejected::new).orElseGet(change);
    }

    private static boolean concernsResources(Command command) {
        return switch (command) {
            case Command.SetResourceConfiguration ignored -> true;
            case Command.RecordOperations ignored -> true;
            case Command.SetNodeMembership ignored -> true;
            case Command.RecordFencing ignored -> true;
            case Command.CleanupResource ignored -> true;
            case Command.RegisterNode ignored -> true;
            case Command.RemoveNode ignored -> true;
            case Command.ForgetRemovedNode ignored -> true;
            case Command.InitCluster ignored -> true;
            default -> false;
        };
    }

    private static boolean changesStorageMembership(Command command) {
        return command instanceof Command.RegisterStorage || command instanceof Command.SetNodeMembership
            || command instanceof Command.RecordFencing || command instanceof Command.RemoveNode
            || command instanceof Command.ReportUnreachableStorage || command instanceof Command.ReportStoreStall;
    }

    /** Nodes that heartbeat: the ones whose stores take part in the current storage epoch. */
    private java.util.Set<String> upNodes() {
        java.util.Set<String> up = new java.util.TreeSet<>();
        for (String name : nodes.keySet()) {
            if (resourceStatus.status(name).membership() == herd.core.resource.NodeMembership.MEMBER) {
                up.add(name);
            }
        }
        return up;
    }

    /** Copies 0 means the cluster's default; more copies than zones can never be placed. */
    private Outcome createVolume(Command.CreateVolume create) {
        int copies = create.copies() == 0 ? storage.defaultCopies() : create.copies();
        if (copies > 1) {
            Optional<Rejection> refusal = storage.copiesRefusal(copies, "volume '" + create.name() + "'", nodes);
            if (refusal.isPresent()) {
                return new Outcome.Rejected(refusal.get());
            }
        }
        return volumes.create(new Command.CreateVolume(create.name(), create.sizeBytes(), copies, create.tag(),
            create.createdMillis()));
    }

    public herd.core.storage.StorageTable storage() {
        return storage;
    }

    private QueryResult.StorageMap storageMap() {
        List<herd.core.storage.StorageNodeView> views = new ArrayList<>();
        for (herd.core.storage.StorageRegistration registration : storage.registrations()) {
            NodeInfo node = nodes.get(registration.node());
            if (node != null) {
                views.add(new herd.core.storage.StorageNodeView(node.name(), node.zone(), registration.capacityBytes(),
                    node.apiAddress(), resourceStatus.status(node.name()).membership().name(), storage.cutOffBy(node.name()),
                    storage.stall(node.name())));
            }
        }
        Map<Integer, Integer> copies = new TreeMap<>();
        volumes.catalog().entries().forEach(volume -> copies.put(volume.id(), volume.copies()));
        return new QueryResult.StorageMap(storage.defaultCopies(), storage.epochs(), storage.recoveredEpochs(), views, copies,
            lastAppliedIndex);
    }

    /**
     * Consumes log entry {@code index} whose bytes could not be decoded (written by a newer or broken
     * client): it changes nothing but the index, the same way on every server.
     */
    public Outcome skipUndecodable(long index, String reason) {
        if (index <= lastAppliedIndex) {
            throw new IllegalStateException("log entry " + index + " applied after " + lastAppliedIndex);
        }
        lastAppliedIndex = index;
        return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "the command could not be decoded ("
            + reason + "): upgrade the client to this cluster's herd version"));
    }

    public QueryResult query(Query query) {
        return switch (query) {
            case Query.KvGet get -> KvQueries.get(kv, get.key());
            case Query.KvList list -> KvQueries.list(kv, list.prefix(), list.limit());
            case Query.KvWatch watch -> new QueryResult.KvChanges(kv.changesSince(watch.fromRevision(), watch.filter()));
            case Query.Nodes ignored -> new QueryResult.NodeList(nodes());
            case Query.Summary ignored -> summary();
            case Query.ResourceConfiguration ignored ->
                new QueryResult.ResourceConfigurationText(resourceConfiguration, resourceConfigurationVersion);
            case Query.ResourceStatus ignored -> resourceStatusView();
            case Query.Volumes ignored -> volumes.list();
            case Query.VolumeInfo info -> volumes.info(info.name());
            case Query.VolumeTree ignored -> volumes.tree();
            case Query.StorageMap ignored -> storageMap();
            case Query.ResourcesChangedAt ignored -> new QueryResult.LogIndex(resourceChangeIndex);
            case Query.ReclaimableObjects ignored -> volumes.reclaimable();
        };
    }

    /** Each registered node's status, in name order; a node that never joined is down. */
    public List<NodeStatus> nodeStatuses() {
        return nodes.keySet().stream().map(resourceStatus::status).toList();
    }

    public NodeStatus nodeStatus(String node) {
        return resourceStatus.status(node);
    }

    private QueryResult.ResourceStatusView resourceStatusView() {
        return new QueryResult.ResourceStatusView(resourceConfiguration, resourceConfigurationVersion, nodes(),
            nodeStatuses(), resourceStatus.fencingHistory(), lastAppliedIndex, List.copyOf(removedNodesInLease));
    }

    private Optional<Rejection> unknownNode(String name) {
        if (nodes.containsKey(name)) {
            return Optional.empty();
        }
        return Optional.of(new Rejection(ErrorCode.NODE_NOT_FOUND, "there is no node '" + name
            + "': 'herd node list' shows the names"));
    }

    private static Outcome outcome(Optional<Rejection> rejection, String appliedMessage) {
        return rejection.<Outcome>map(Outcome.Rejected::new).orElseGet(() -> new Outcome.Applied(appliedMessage));
    }

    private Outcome recordOperations(Command.RecordOperations record) {
        return outcome(unknownNode(record.node()).or(() -> resourceStatus.record(record.node(), record.operations())),
            "recorded " + record.operations().size() + " operation results of node " + record.node());
    }

    private Outcome setNodeMembership(Command.SetNodeMembership set) {
        return outcome(unknownNode(set.node()).or(() -> resourceStatus.setMembership(set.node(), set.membership(), set.reason(), set.bootId())),
            "node " + set.node() + " is " + set.membership().name().toLowerCase() + ": " + set.reason());
    }

    private Outcome recordFencing(herd.core.resource.FencingEvent event) {
        Optional<Rejection> unknown = unknownNode(event.target());
        unknown.ifPresentOrElse(ignored -> {}, () -> {
            resourceStatus.recordFencing(event);
            if (event.succeeded()) {
                volumes.releaseAttachmentsOf(event.target()); // a fenced node writes nothing any more
            }
        });
        return outcome(unknown, (event.succeeded() ? "fenced node " : "failed to fence node ") + event.target()
            + ": " + event.detail());
    }

    private Outcome cleanupResource(Command.CleanupResource cleanup) {
        Optional<Rejection> unknown = cleanup.node() == null ? Optional.empty() : unknownNode(cleanup.node());
        if (unknown.isPresent()) {
            return new Outcome.Rejected(unknown.get());
        }
        List<String> touched = resourceStatus.cleanup(cleanup.resource(), cleanup.node());
        return new Outcome.Applied("cleaned up " + cleanup.resource() + (touched.isEmpty() ? " (it had no history)"
            : " on " + String.join(", ", touched)));
    }

    private Outcome initCluster(Command.InitCluster init) {
        if (!clusterName.isEmpty()) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "the cluster is already initialised as '"
                + clusterName + "'"));
        }
        clusterName = init.clusterName();
        restoring = init.restoring();
        nodes.put(init.firstServer().name(), init.firstServer());
        return new Outcome.Applied("cluster " + clusterName + " initialised with server " + init.firstServer().name());
    }

    private Outcome restoreKeys(Command.RestoreKeys restore) {
        if (!restoring) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST,
                "keys from a backup can only be loaded into a cluster created by 'herd restore'"));
        }
        kv.load(restore.keys(), restore.backupRevision());
        if (restore.last()) {
            restoring = false;
        }
        return new Outcome.Applied("restored " + restore.keys().size() + " keys" + (restore.last() ? "; restore complete" : ""));
    }

    private Outcome setResourceConfiguration(Command.SetResourceConfiguration set) {
        if (set.expectVersion() != null && set.expectVersion() != resourceConfigurationVersion) {
            return new Outcome.Rejected(new Rejection(ErrorCode.REVISION_MISMATCH, "the configuration changed meanwhile (version "
                + resourceConfigurationVersion + ", expected " + set.expectVersion() + "): read it again and retry"));
        }
        resourceConfiguration = set.crmText();
        resourceConfigurationVersion++;
        return new Outcome.Applied("resource configuration version " + resourceConfigurationVersion);
    }

    public boolean restoring() {
        return restoring;
    }

    private Outcome registerNode(NodeInfo node) {
        NodeInfo existing = nodes.get(node.name());
        if (existing != null && existing.role() != node.role()) {
            return new Outcome.Rejected(new Rejection(ErrorCode.NODE_EXISTS, "node '" + node.name() + "' is already a "
                + existing.role().name().toLowerCase() + ": remove it first or pick another name"));
        }
        for (NodeInfo other : nodes.values()) {
            if (!other.name().equals(node.name()) && sameEndpoint(other, node)) {
                return new Outcome.Rejected(new Rejection(ErrorCode.NODE_EXISTS, "node '" + other.name()
                    + "' already uses address " + other.apiAddress() + ": give each node its own address"));
            }
        }
        nodes.put(node.name(), node);
        removedNodesInLease.remove(node.name()); // known again: its own status and heartbeats say what it may run
        return new Outcome.Applied((existing == null ? "registered " : "updated ") + node.role().name().toLowerCase()
            + " " + node.name());
    }

    private static boolean sameEndpoint(NodeInfo a, NodeInfo b) {
        return a.apiAddress().equals(b.apiAddress())
            || (a.raftAddress() != null && a.raftAddress().equals(b.raftAddress()));
    }

    private Outcome removeNode(String name) {
        if (nodes.remove(name) == null) {
            return new Outcome.Rejected(new Rejection(ErrorCode.NODE_NOT_FOUND, "there is no node '" + name
                + "': 'herd server list' and 'herd node list' show the names"));
        }
        resourceStatus.forget(name);
        storage.unregister(name);
        // the API refuses to remove a node with attached volumes; one attached meanwhile is released,
        // since a removed node can be neither asked to detach nor fenced
        volumes.releaseAttachmentsOf(name);
        removedNodesInLease.add(name);
        return new Outcome.Applied("removed node " + name);
    }

    private Outcome forgetRemovedNode(String name) {
        if (!removedNodesInLease.remove(name)) {
            return new Outcome.Rejected(new Rejection(ErrorCode.NODE_NOT_FOUND, "no removed node '" + name
                + "' is waited for: its lease has been found over already, or it was registered again"));
        }
        return new Outcome.Applied("removed node " + name + " runs nothing any more: its lease has run out");
    }

    /**
     * A clone's own objects are kept in the copies it asks for, or its snapshot's; like a new volume's,
     * they must fit the zones (a snapshot taken when there were more zones may not).
     */
    private Outcome cloneVolume(Command.CloneVolume clone) {
        if (clone.copies() == null) {
            return volumes.cloneVolume(clone); // logged by an earlier build, which did not check
        }
        Optional<herd.blockcore.volume.Volume> snapshot = volumes.catalog().byName(clone.snapshot())
            .filter(herd.blockcore.volume.Volume::isSnapshot);
        if (snapshot.isEmpty()) {
            return volumes.cloneVolume(clone); // which says what is wrong with the name
        }
        int copies = clone.copies() != 0 ? clone.copies() : snapshot.get().copies();
        if (copies > 1) {
            String what = "clone '" + clone.newName() + "'" + (clone.copies() == 0 ? " (its snapshot's copies; choose "
                + "others with --copies)" : "");
            Optional<Rejection> refusal = storage.copiesRefusal(copies, what, nodes);
            if (refusal.isPresent()) {
                return new Outcome.Rejected(refusal.get());
            }
        }
        return volumes.cloneVolume(clone);
    }

    private QueryResult summary() {
        int servers = (int) nodes.values().stream().filter(n -> n.role() == NodeInfo.Role.SERVER).count();
        return new QueryResult.ClusterSummary(clusterName, kv.revision(), lastAppliedIndex, kv.size(), servers,
            nodes.size() - servers, restoring);
    }

    /** The state as plain data, for snapshots. */
    public StateImage image() {
        return new StateImage(StateImage.FORMAT_VERSION, lastAppliedIndex, clusterName, restoring, kv.revision(),
            kv.compactedRevision(), kv.allKeys(), kv.history(), new ArrayList<>(nodes.values()), resourceConfiguration,
            resourceConfigurationVersion, resourceStatus.all(), resourceStatus.fencingHistory(), volumes.image(), storage.image(),
            List.copyOf(removedNodesInLease));
    }

    public static ClusterState fromImage(StateImage image) {
        if (image.formatVersion() != StateImage.FORMAT_VERSION) {
            throw new IllegalArgumentException("snapshot format " + image.formatVersion() + " is not supported (this herd reads "
                + StateImage.FORMAT_VERSION + "): restore it with the herd version that wrote it");
        }
        ClusterState state = new ClusterState(KvStore.restore(image.revision(), image.compactedRevision(), image.keys(),
            image.history()));
        state.lastAppliedIndex = image.lastAppliedIndex();
        state.clusterName = image.clusterName();
        state.restoring = image.restoring();
        state.resourceConfiguration = image.resourceConfiguration() == null ? "" : image.resourceConfiguration();
        state.resourceConfigurationVersion = image.resourceConfigurationVersion();
        for (NodeInfo node : image.nodes()) {
            state.nodes.put(node.name(), node);
        }
        state.resourceStatus.load(image.nodeStatuses() == null ? List.of() : image.nodeStatuses(),
            image.fencingHistory() == null ? List.of() : image.fencingHistory());
        state.volumes.load(image.volumes());
        state.storage.load(image.storage());
        if (image.removedNodesInLease() != null) { // null: written before removed nodes were waited for
            state.removedNodesInLease.addAll(image.removedNodesInLease());
        }
        return state;
    }

}
