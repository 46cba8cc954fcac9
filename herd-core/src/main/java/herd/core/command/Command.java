package herd.core.command;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import herd.core.cluster.NodeInfo;

/**
 * Every change to the cluster state. Commands are validated before they enter the Raft log
 * ({@link CommandValidator}) and applied by {@link herd.core.ClusterState#apply} in an exhaustive
 * switch, so adding a command without handling it does not compile.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "command")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Command.KvPut.class, name = "kv-put"),
    @JsonSubTypes.Type(value = Command.KvDelete.class, name = "kv-delete"),
    @JsonSubTypes.Type(value = Command.InitCluster.class, name = "init-cluster"),
    @JsonSubTypes.Type(value = Command.RegisterNode.class, name = "register-node"),
    @JsonSubTypes.Type(value = Command.RemoveNode.class, name = "remove-node"),
    @JsonSubTypes.Type(value = Command.ForgetRemovedNode.class, name = "forget-removed-node"),
    @JsonSubTypes.Type(value = Command.RestoreKeys.class, name = "restore-keys"),
    @JsonSubTypes.Type(value = Command.SetResourceConfiguration.class, name = "set-resource-configuration"),
    @JsonSubTypes.Type(value = Command.RecordOperations.class, name = "record-operations"),
    @JsonSubTypes.Type(value = Command.SetNodeMembership.class, name = "set-node-membership"),
    @JsonSubTypes.Type(value = Command.RecordFencing.class, name = "record-fencing"),
    @JsonSubTypes.Type(value = Command.CleanupResource.class, name = "cleanup-resource"),
    @JsonSubTypes.Type(value = Command.CreateVolume.class, name = "create-volume"),
    @JsonSubTypes.Type(value = Command.ResizeVolume.class, name = "resize-volume"),
    @JsonSubTypes.Type(value = Command.DeleteVolume.class, name = "delete-volume"),
    @JsonSubTypes.Type(value = Command.SnapshotVolume.class, name = "snapshot-volume"),
    @JsonSubTypes.Type(value = Command.CloneVolume.class, name = "clone-volume"),
    @JsonSubTypes.Type(value = Command.RollbackVolume.class, name = "rollback-volume"),
    @JsonSubTypes.Type(value = Command.AttachVolume.class, name = "attach-volume"),
    @JsonSubTypes.Type(value = Command.DetachVolume.class, name = "detach-volume"),
    @JsonSubTypes.Type(value = Command.SetInodeEntries.class, name = "set-inode-entries"),
    @JsonSubTypes.Type(value = Command.RegisterStorage.class, name = "register-storage"),
    @JsonSubTypes.Type(value = Command.SetStorageDefaults.class, name = "set-storage-defaults"),
    @JsonSubTypes.Type(value = Command.ReportStorageRecovered.class, name = "report-storage-recovered"),
    @JsonSubTypes.Type(value = Command.RenewStorageEpoch.class, name = "renew-storage-epoch"),
    @JsonSubTypes.Type(value = Command.ReportUnreachableStorage.class, name = "report-unreachable-storage"),
    @JsonSubTypes.Type(value = Command.ReportStoreStall.class, name = "report-store-stall"),
})
public sealed interface Command {

    /** Writes a key; with {@code expectRevision} set, only if the key's modRevision equals it (0: absent). */
    record KvPut(String key, byte[] value, Long expectRevision) implements Command {}

    /** Deletes a key; with {@code expectRevision} set, only if the key's modRevision equals it. */
    record KvDelete(String key, Long expectRevision) implements Command {}

    /**
     * The first entry of every cluster: its name and first server. With {@code restoring} set the
     * cluster starts from a backup: clients' key writes are refused until the last
     * {@link RestoreKeys} batch has been applied.
     */
    record InitCluster(String clusterName, NodeInfo firstServer, boolean restoring) implements Command {}

    /**
     * One batch of keys from a backup, with their original revisions. {@code backupRevision} is the
     * revision of the backup; the {@code last} batch ends the restore. Applying a batch twice is harmless.
     */
    record RestoreKeys(java.util.List<herd.core.kv.KeyValue> keys, long backupRevision, boolean last) implements Command {}

    /** Records a node (a server being added, or a worker joining); an existing name is replaced only if the role matches. */
    record RegisterNode(NodeInfo node) implements Command {}

    /**
     * Replaces the resource configuration (resources, constraints, properties) with {@code crmText},
     * in crm shell syntax as the scheduler prints it. The API layer parses and validates the text
     * with the scheduler's model before it enters the log. With {@code expectVersion} set, only if the
     * current configuration has that version: how an edit (move, ban, standby) avoids losing another.
     */
    record SetResourceConfiguration(String crmText, Long expectVersion) implements Command {
        /** Replaces whatever configuration is there. */
        public SetResourceConfiguration(String crmText) {
            this(crmText, null);
        }
    }

    /** Forgets a node; until {@link ForgetRemovedNode}, leaders count it as possibly running something. */
    record RemoveNode(String name) implements Command {}

    /**
     * The leader's verdict that a removed node's lease has run out: whatever it ran has stopped, so
     * a leader elected later need not wait for it (see {@code Coordinator.removedNodesInLease}).
     */
    record ForgetRemovedNode(String name) implements Command {}

    /** Results of resource agent operations that {@code node}'s executor ran, in the order they ended. */
    record RecordOperations(String node, java.util.List<herd.core.resource.OperationRecord> operations) implements Command {}

    /**
     * The leader's verdict on a node's liveness: MEMBER when it heartbeats, LOST when it stopped,
     * DOWN when its lease has provably expired or it has rebooted since (fencing results use
     * {@link RecordFencing}).
     *
     * @param bootId for MEMBER, the boot id the node heartbeats with (null when it gave none): a lost
     *               node that later heartbeats with another one has rebooted, and runs nothing
     */
    record SetNodeMembership(String node, herd.core.resource.NodeMembership membership, String reason, String bootId)
        implements Command {
        public SetNodeMembership(String node, herd.core.resource.NodeMembership membership, String reason) {
            this(node, membership, reason, null);
        }
    }

    /** The result of fencing a node; a success marks it down, so its resources may start elsewhere. */
    record RecordFencing(herd.core.resource.FencingEvent event) implements Command {}

    /** Forgets a resource's history and fail counts on {@code node}, or everywhere when it is null. */
    record CleanupResource(String resource, String node) implements Command {}

    // ---- volumes (see herd.core.volume and docs/storage.md) ----

    /** A new, empty working volume; {@code createdMillis} comes from the client so every server stores the same. */
    record CreateVolume(String name, long sizeBytes, int copies, String tag, long createdMillis) implements Command {}

    /** Grows a working volume to {@code sizeBytes}. */
    record ResizeVolume(String name, long sizeBytes) implements Command {}

    /** Deletes a detached volume or a snapshot (kept hidden while clones read through it). */
    record DeleteVolume(String name) implements Command {}

    /**
     * Freezes {@code volume} as read-only {@code snapshot}; the volume continues under a new id.
     * {@code servedBy} is the node whose gateway serves the volume as the snapshot is taken (it
     * switches to the new id with no I/O in flight), or "" when no node does; the snapshot is refused
     * if the volume's attachment differs by the time it applies, since a gateway that attached the
     * volume meanwhile would go on writing under the id the snapshot takes over. Null (commands
     * logged by earlier builds) is not checked.
     */
    record SnapshotVolume(String volume, String snapshot, String tag, long createdMillis, String servedBy)
            implements Command {
        /** A snapshot whose attachment is not checked. */
        public SnapshotVolume(String volume, String snapshot, String tag, long createdMillis) {
            this(volume, snapshot, tag, createdMillis, null);
        }
    }

    /**
     * A new working volume reading through to {@code snapshot} until it writes its own objects, which
     * it keeps in {@code copies} copies: 0 for the snapshot's. Null (commands logged by earlier builds,
     * which were applied without checking the copies against the zones) means the snapshot's,
     * unchecked, so that an old log replays to the same state.
     */
    record CloneVolume(String snapshot, String newName, long createdMillis, Integer copies) implements Command {
        /** A clone with the snapshot's copies, not checked against the zones. */
        public CloneVolume(String snapshot, String newName, long createdMillis) {
            this(snapshot, newName, createdMillis, null);
        }
    }

    /** Returns a detached volume to one of its own snapshots. */
    record RollbackVolume(String volume, String snapshot) implements Command {}

    /** Records that {@code node}'s gateway serves the volume (one writer at a time). */
    record AttachVolume(String volume, String node) implements Command {}

    record DetachVolume(String volume) implements Command {}

    /** First writes of a volume's gateway: the volume now owns these object indexes. */
    record SetInodeEntries(int volumeId, java.util.List<herd.core.volume.InodeEntry> entries) implements Command {}

    /** Node {@code node} offers storage: its object store may hold {@code capacityBytes}. */
    record RegisterStorage(String node, long capacityBytes) implements Command {}

    /** The number of copies volumes keep unless they ask otherwise ({@code herd storage format --copies N}). */
    record SetStorageDefaults(int copies) implements Command {}

    /** Node {@code node} holds a complete copy of every object that storage epoch {@code epoch} places on it. */
    record ReportStorageRecovered(String node, long epoch) implements Command {}

    /**
     * Node {@code node} asks that storage epoch {@code epoch} end, if it is still the current one, and
     * a new one begin with the same members: a change it sent to a copy got no answer in time, so it
     * may still land there later, and only a new epoch makes the copy refuse it (see
     * {@code ReplicatedObjectIo}). {@code reason} says which change, for the log.
     */
    record RenewStorageEpoch(String node, long epoch, String reason) implements Command {}

    /**
     * Node {@code node}'s view of the data path: the storage nodes whose object service it has not
     * reached for a while ({@code unreachable}; empty when it reaches them all). A node the majority
     * of storage nodes cannot reach is cut off from the storage epoch (see {@code StorageTable}).
     */
    record ReportUnreachableStorage(String node, java.util.List<String> unreachable) implements Command {}

    /**
     * Node {@code node}'s word about its own store: why it does not answer ({@code stall}, like "an
     * operation on its store has waited 12 s": its disk hangs), or empty when it answers. The cluster
     * takes one such node at a time out of the storage epoch (see {@code StorageTable}).
     */
    record ReportStoreStall(String node, String stall) implements Command {}
}
