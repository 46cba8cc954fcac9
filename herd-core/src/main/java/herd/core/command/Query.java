package herd.core.command;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import herd.core.kv.WatchFilter;

/** Every read of the cluster state; answered by {@link herd.core.ClusterState#query}. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "query")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Query.KvGet.class, name = "kv-get"),
    @JsonSubTypes.Type(value = Query.KvList.class, name = "kv-list"),
    @JsonSubTypes.Type(value = Query.KvWatch.class, name = "kv-watch"),
    @JsonSubTypes.Type(value = Query.Nodes.class, name = "nodes"),
    @JsonSubTypes.Type(value = Query.Summary.class, name = "summary"),
    @JsonSubTypes.Type(value = Query.ResourceConfiguration.class, name = "resource-configuration"),
    @JsonSubTypes.Type(value = Query.ResourceStatus.class, name = "resource-status"),
    @JsonSubTypes.Type(value = Query.Volumes.class, name = "volumes"),
    @JsonSubTypes.Type(value = Query.VolumeInfo.class, name = "volume-info"),
    @JsonSubTypes.Type(value = Query.VolumeTree.class, name = "volume-tree"),
    @JsonSubTypes.Type(value = Query.StorageMap.class, name = "storage-map"),
    @JsonSubTypes.Type(value = Query.ReclaimableObjects.class, name = "reclaimable-objects"),
    @JsonSubTypes.Type(value = Query.ResourcesChangedAt.class, name = "resources-changed-at"),
})
public sealed interface Query {
    record KvGet(String key) implements Query {}

    record KvList(String prefix, int limit) implements Query {}

    record KvWatch(long fromRevision, WatchFilter filter) implements Query {}

    record Nodes() implements Query {}

    record Summary() implements Query {}

    record ResourceConfiguration() implements Query {}

    /** The configuration with every node's membership and resource history: what the scheduler needs. */
    record ResourceStatus() implements Query {}

    /** The live volumes and snapshots, by name. */
    record Volumes() implements Query {}

    /** One volume or snapshot with its chain and the chain's inodes (what a gateway serves it from). */
    record VolumeInfo(String name) implements Query {}

    /** The parent/child forest of volumes, snapshots and clones. */
    record VolumeTree() implements Query {}

    /** The storage nodes, epochs and every catalog entry's copies: what the data path places objects by. */
    record StorageMap() implements Query {}

    /** The objects no live volume or snapshot can read any more: every node deletes its copies of them. */
    record ReclaimableObjects() implements Query {}

    /**
     * The log index of the last command that changed what the resource coordinator decides from
     * (configuration, nodes, operation results, memberships, fencing): the leader re-plans when it
     * moves, not on every write. Derived, not kept in snapshots (0 after a restart).
     */
    record ResourcesChangedAt() implements Query {}
}
