package herd.core.command;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import herd.core.Rejection;
import herd.core.cluster.NodeInfo;
import herd.core.kv.KeyValue;
import herd.core.kv.WatchBatch;
import java.util.List;

/** Answers to {@link Query}. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
@JsonSubTypes({
    @JsonSubTypes.Type(value = QueryResult.KvValue.class, name = "kv-value"),
    @JsonSubTypes.Type(value = QueryResult.KvRange.class, name = "kv-range"),
    @JsonSubTypes.Type(value = QueryResult.KvChanges.class, name = "kv-changes"),
    @JsonSubTypes.Type(value = QueryResult.NodeList.class, name = "node-list"),
    @JsonSubTypes.Type(value = QueryResult.ClusterSummary.class, name = "summary"),
    @JsonSubTypes.Type(value = QueryResult.Refused.class, name = "refused"),
    @JsonSubTypes.Type(value = QueryResult.ResourceConfigurationText.class, name = "resource-configuration"),
    @JsonSubTypes.Type(value = QueryResult.ResourceStatusView.class, name = "resource-status"),
    @JsonSubTypes.Type(value = QueryResult.VolumeList.class, name = "volume-list"),
    @JsonSubTypes.Type(value = QueryResult.VolumeDetail.class, name = "volume-detail"),
    @JsonSubTypes.Type(value = QueryResult.VolumeForest.class, name = "volume-forest"),
    @JsonSubTypes.Type(value = QueryResult.StorageMap.class, name = "storage-map"),
    @JsonSubTypes.Type(value = QueryResult.Reclaimable.class, name = "reclaimable"),
    @JsonSubTypes.Type(value = QueryResult.LogIndex.class, name = "log-index"),
})
public sealed interface QueryResult {
    /** {@code kv} is null when the key does not exist. */
    record KvValue(long revision, KeyValue kv) implements QueryResult {}

    record KvRange(long revision, List<KeyValue> kvs, boolean more) implements QueryResult {}

    record KvChanges(WatchBatch batch) implements QueryResult {}

    record NodeList(List<NodeInfo> nodes) implements QueryResult {}

    record ClusterSummary(String clusterName, long revision, long lastAppliedIndex, int keys, int servers, int workers,
                          boolean restoring)
        implements QueryResult {}

    record Refused(Rejection rejection) implements QueryResult {}

    /** {@code version} counts the configuration's replacements (0: never set). */
    record ResourceConfigurationText(String crmText, long version) implements QueryResult {}

    /**
     * Everything the scheduler decides from: the configuration, the nodes, and per node its
     * membership and resource history (nodes that never joined are listed as down), and the recent
     * fencing results.
     */
    record ResourceStatusView(String crmText, long configurationVersion, List<NodeInfo> nodes,
                              List<herd.core.resource.NodeStatus> statuses,
                              List<herd.core.resource.FencingEvent> fencingHistory, long lastAppliedIndex,
                              List<String> removedNodesInLease)
        implements QueryResult {
        /** Removed nodes that may still run something (see {@code Command.ForgetRemovedNode}); none when not given. */
        public List<String> removedNodesInLease() {
            return removedNodesInLease == null ? List.of() : removedNodesInLease;
        }
    }

    record VolumeList(List<herd.core.volume.VolumeRow> volumes) implements QueryResult {}

    /**
     * One entry: its listing row, how many entries its own inode has, its chain (the entry, its
     * parent, ... up to a root) with each one's inode, and the catalog's next id.
     */
    record VolumeDetail(herd.core.volume.VolumeRow row, int inodeEntries, List<herd.core.volume.VolumeRecord> chain,
                        List<herd.core.volume.InodeRecord> chainInodes, long catalogNextId) implements QueryResult {}

    record VolumeForest(List<herd.core.volume.VolumeTreeNode> roots) implements QueryResult {}

    /**
     * Where objects live: the default copies, the kept epochs (the last is current), how far each
     * node's recovery got, every storage node, and the copies of every catalog entry by volume id.
     */
    record StorageMap(int defaultCopies, List<herd.core.storage.StorageEpoch> epochs, java.util.Map<String, Long> recoveredEpochs,
                      List<herd.core.storage.StorageNodeView> nodes, java.util.Map<Integer, Integer> copiesByVolumeId,
                      long lastAppliedIndex) implements QueryResult {
        public herd.core.storage.StorageEpoch current() {
            return epochs.isEmpty() ? new herd.core.storage.StorageEpoch(0, List.of()) : epochs.get(epochs.size() - 1);
        }
    }

    /**
     * What storage nodes may delete: the objects of kept inodes no live entry reads
     * ({@code objectIds}), and every object whose owner entry has left the catalog: an owner id
     * below {@code nextVolumeId} that is not among {@code keptEntryIds} (ids are never reused).
     */
    record Reclaimable(java.util.Set<Long> objectIds, java.util.Set<Integer> keptEntryIds, long nextVolumeId)
        implements QueryResult {
        /** Whether a node may delete its copy of the object. */
        public boolean includes(herd.blockcore.ObjectId objectId) {
            return objectIds.contains(objectId.value())
                || herd.blockcore.volume.ObjectMap.ownerDropped(objectId, nextVolumeId, keptEntryIds::contains);
        }
    }

    /** A position in the Raft log. */
    record LogIndex(long index) implements QueryResult {}
}
