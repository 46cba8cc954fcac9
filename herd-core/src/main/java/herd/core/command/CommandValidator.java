package herd.core.command;

import herd.core.Rejection;
import herd.core.cluster.NameRules;
import herd.core.cluster.NodeInfo;
import herd.core.kv.KeyRules;
import java.util.Optional;

/**
 * Checks a command on its own, before it enters the Raft log, so that bad input never costs a log
 * entry. {@link herd.core.ClusterState} runs the same checks again on apply (plus the ones that
 * need the state), because a log entry may come from an older or misbehaving client.
 */
public final class CommandValidator {
    private CommandValidator() {}

    public static Optional<Rejection> validate(Command command) {
        return switch (command) {
            case Command.KvPut put -> KeyRules.checkKey(put.key())
                .or(() -> KeyRules.checkValue(put.value()))
                .or(() -> KeyRules.checkExpectedRevision(put.expectRevision()));
            case Command.KvDelete delete -> KeyRules.checkKey(delete.key())
                .or(() -> KeyRules.checkExpectedRevision(delete.expectRevision()));
            case Command.InitCluster init -> NameRules.checkName("cluster", init.clusterName())
                .or(() -> checkNode(init.firstServer()));
            case Command.RegisterNode register -> checkNode(register.node());
            case Command.RemoveNode remove -> NameRules.checkName("node", remove.name());
            case Command.ForgetRemovedNode forget -> NameRules.checkName("node", forget.name());
            case Command.RestoreKeys restore -> checkRestore(restore);
            case Command.SetResourceConfiguration set -> checkResourceConfiguration(set.crmText());
            case Command.RecordOperations record -> ResourceCommandRules.checkOperations(record);
            case Command.SetNodeMembership set -> ResourceCommandRules.checkMembership(set);
            case Command.RecordFencing fencing -> ResourceCommandRules.checkFencing(fencing.event());
            case Command.CleanupResource cleanup -> ResourceCommandRules.checkCleanup(cleanup);
            case Command.CreateVolume create -> herd.core.volume.VolumeRules.checkCreate(create);
            case Command.ResizeVolume resize -> herd.core.volume.VolumeRules.checkResize(resize);
            case Command.DeleteVolume delete -> herd.core.volume.VolumeRules.present("volume or snapshot", delete.name());
            case Command.SnapshotVolume snapshot -> herd.core.volume.VolumeRules.checkSnapshot(snapshot);
            case Command.CloneVolume clone -> herd.core.volume.VolumeRules.checkClone(clone);
            case Command.RollbackVolume rollback -> herd.core.volume.VolumeRules.checkRollback(rollback);
            case Command.AttachVolume attach -> herd.core.volume.VolumeRules.checkAttach(attach);
            case Command.DetachVolume detach -> herd.core.volume.VolumeRules.present("volume", detach.volume());
            case Command.SetInodeEntries set -> herd.core.volume.VolumeRules.checkInodeEntries(set);
            case Command.RegisterStorage register -> NameRules.checkName("node", register.node())
                .or(() -> register.capacityBytes() > 0 ? Optional.empty() : Optional.of(new Rejection(
                    herd.core.ErrorCode.BAD_REQUEST, "node " + register.node() + " offers " + register.capacityBytes()
                    + " bytes of storage: give more than 0 (HERD_STORAGE_CAPACITY, like 100G)")));
            case Command.SetStorageDefaults defaults -> defaults.copies() >= 1
                && defaults.copies() <= herd.core.storage.StorageTable.MAX_COPIES ? Optional.empty()
                : Optional.of(new Rejection(herd.core.ErrorCode.BAD_REQUEST, "--copies " + defaults.copies()
                    + " is not possible: give 1 to " + herd.core.storage.StorageTable.MAX_COPIES + ", at most one per zone"));
            case Command.ReportStorageRecovered recovered -> NameRules.checkName("node", recovered.node())
                .or(() -> recovered.epoch() >= 0 ? Optional.empty() : Optional.of(new Rejection(
                    herd.core.ErrorCode.BAD_REQUEST, "epoch " + recovered.epoch() + " is negative")));
            case Command.RenewStorageEpoch renew -> NameRules.checkName("node", renew.node())
                .or(() -> renew.epoch() >= 0 ? Optional.empty() : Optional.of(new Rejection(
                    herd.core.ErrorCode.BAD_REQUEST, "epoch " + renew.epoch() + " is negative")))
                .or(() -> checkRenewalReason(renew.reason()));
            case Command.ReportUnreachableStorage report -> NameRules.checkName("node", report.node())
                .or(() -> checkUnreachableReport(report));
            case Command.ReportStoreStall stall -> NameRules.checkName("node", stall.node())
                .or(() -> checkStall(stall.stall()));
        };
    }

    private static Optional<Rejection> checkRenewalReason(String reason) {
        int limit = herd.core.storage.StorageTable.MAX_REASON_CHARS;
        return reason != null && reason.length() <= limit ? Optional.empty() : Optional.of(new Rejection(
            herd.core.ErrorCode.BAD_REQUEST, "a new epoch's reason must be given, in at most " + limit + " characters"));
    }

    private static Optional<Rejection> checkStall(String stall) {
        int limit = herd.core.storage.StorageTable.MAX_REASON_CHARS;
        return stall != null && stall.length() <= limit ? Optional.empty() : Optional.of(new Rejection(
            herd.core.ErrorCode.BAD_REQUEST, "say why the store does not answer in at most " + limit
            + " characters, or give an empty text when it answers"));
    }

    private static Optional<Rejection> checkUnreachableReport(Command.ReportUnreachableStorage report) {
        if (report.unreachable() == null || report.unreachable().size() > herd.core.storage.StorageTable.MAX_REPORTED_NODES) {
            return Optional.of(new Rejection(herd.core.ErrorCode.BAD_REQUEST, "give the unreachable storage nodes as a "
                + "list of at most " + herd.core.storage.StorageTable.MAX_REPORTED_NODES + " names (empty when every node is reached)"));
        }
        if (report.unreachable().contains(report.node())) {
            return Optional.of(new Rejection(herd.core.ErrorCode.BAD_REQUEST, "node " + report.node()
                + " reported itself unreachable: a node reports only the other nodes it cannot reach"));
        }
        for (String other : report.unreachable()) {
            Optional<Rejection> badName = NameRules.checkName("node", other);
            if (badName.isPresent()) {
                return badName;
            }
        }
        return Optional.empty();
    }

    static Optional<Rejection> checkResourceConfiguration(String crmText) {
        if (crmText == null) {
            return Optional.of(new Rejection(herd.core.ErrorCode.BAD_REQUEST, "the configuration text is missing"));
        }
        int bytes = crmText.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > herd.core.Limits.MAX_RESOURCE_CONFIGURATION_BYTES) {
            return Optional.of(new Rejection(herd.core.ErrorCode.VALUE_TOO_LARGE, "the configuration is " + bytes
                + " bytes; the limit is " + herd.core.Limits.MAX_RESOURCE_CONFIGURATION_BYTES + " bytes"));
        }
        return Optional.empty();
    }

    static Optional<Rejection> checkRestore(Command.RestoreKeys restore) {
        if (restore.keys() == null || restore.backupRevision() < 0) {
            return Optional.of(new Rejection(herd.core.ErrorCode.BAD_REQUEST, "a restore batch needs keys and a revision"));
        }
        for (herd.core.kv.KeyValue kv : restore.keys()) {
            Optional<Rejection> invalid = KeyRules.checkKey(kv.key()).or(() -> KeyRules.checkValue(kv.value()));
            if (invalid.isPresent()) {
                return invalid;
            }
            if (kv.modRevision() > restore.backupRevision() || kv.createRevision() > kv.modRevision() || kv.version() < 1) {
                return Optional.of(new Rejection(herd.core.ErrorCode.BAD_REVISION, "key '" + kv.key()
                    + "' has inconsistent revisions in the backup: the backup file is damaged"));
            }
        }
        return Optional.empty();
    }

    static Optional<Rejection> checkNode(NodeInfo node) {
        if (node == null) {
            return Optional.of(new Rejection(herd.core.ErrorCode.BAD_REQUEST, "the node is missing"));
        }
        Optional<Rejection> basics = NameRules.checkName("node", node.name())
            .or(() -> NameRules.checkAddress("API", node.apiAddress()))
            .or(() -> NameRules.checkName("zone", node.zone()));
        if (basics.isPresent() || node.role() == NodeInfo.Role.WORKER) {
            return basics;
        }
        return NameRules.checkAddress("Raft", node.raftAddress());
    }
}
