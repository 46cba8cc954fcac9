package herd.core;

import herd.core.cluster.NodeInfo;
import herd.core.kv.KeyValue;
import herd.core.kv.KvEvent;
import java.util.List;

/** The whole cluster state as plain data: what a snapshot and a backup hold. */
public record StateImage(
    int formatVersion,
    long lastAppliedIndex,
    String clusterName,
    boolean restoring,
    long revision,
    long compactedRevision,
    List<KeyValue> keys,
    List<KvEvent> history,
    List<NodeInfo> nodes,
    String resourceConfiguration,
    long resourceConfigurationVersion,
    List<herd.core.resource.NodeStatus> nodeStatuses,
    List<herd.core.resource.FencingEvent> fencingHistory,
    herd.core.volume.VolumeImage volumes,
    herd.core.storage.StorageImage storage,
    List<String> removedNodesInLease) {

    public static final int FORMAT_VERSION = 1;

    /** An image without volumes (as written before volumes were part of the state). */
    public StateImage(int formatVersion, long lastAppliedIndex, String clusterName, boolean restoring, long revision,
                      long compactedRevision, List<KeyValue> keys, List<KvEvent> history, List<NodeInfo> nodes,
                      String resourceConfiguration, long resourceConfigurationVersion,
                      List<herd.core.resource.NodeStatus> nodeStatuses, List<herd.core.resource.FencingEvent> fencingHistory) {
        this(formatVersion, lastAppliedIndex, clusterName, restoring, revision, compactedRevision, keys, history, nodes,
            resourceConfiguration, resourceConfigurationVersion, nodeStatuses, fencingHistory, null, null, null);
    }
}
