package herd.core.volume;

import herd.blockcore.volume.CatalogResult;
import herd.blockcore.volume.RefusalCode;
import herd.blockcore.volume.VolumeCatalog;
import herd.core.ErrorCode;
import herd.core.Rejection;
import herd.core.command.Command;
import java.util.List;
import java.util.Optional;

/**
 * The checks of volume commands that need no state, run before a command enters the Raft log; the
 * catalog checks the rest on apply. Also maps the catalog's refusal codes to herd's error codes.
 */
public final class VolumeRules {
    private VolumeRules() {}

    /** Most inode entries one command carries, so a log entry stays small. */
    public static final int MAX_INODE_ENTRIES_PER_COMMAND = 1024;

    public static Optional<Rejection> checkCreate(Command.CreateVolume create) {
        if (create.copies() < 0 || create.copies() > herd.core.storage.StorageTable.MAX_COPIES) {
            return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, create.copies() + " copies asked for volume '"
                + create.name() + "': give 1 to " + herd.core.storage.StorageTable.MAX_COPIES
                + " (one per zone), or leave it out for the cluster's default"));
        }
        int copiesToCheck = create.copies() == 0 ? 1 : create.copies(); // 0: the default, resolved on apply
        CatalogResult alone = VolumeCatalog.empty().create(create.name(), create.sizeBytes(), copiesToCheck,
            create.createdMillis(), tagOrEmpty(create.tag()));
        if (alone instanceof CatalogResult.Refused refused) {
            return Optional.of(rejection(refused));
        }
        return Optional.empty();
    }

    public static Optional<Rejection> checkResize(Command.ResizeVolume resize) {
        return present("volume", resize.name()).or(() -> resize.sizeBytes() > 0 ? Optional.empty()
            : Optional.of(new Rejection(ErrorCode.BAD_REQUEST, "the new size of volume '" + resize.name()
                + "' must be more than 0 bytes, like 20G")));
    }

    public static Optional<Rejection> checkSnapshot(Command.SnapshotVolume snapshot) {
        return present("volume", snapshot.volume()).or(() -> present("snapshot", snapshot.snapshot()));
    }

    public static Optional<Rejection> checkClone(Command.CloneVolume clone) {
        if (clone.copies() != null && (clone.copies() < 0 || clone.copies() > herd.core.storage.StorageTable.MAX_COPIES)) {
            return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, clone.copies() + " copies asked for clone '"
                + clone.newName() + "': give 1 to " + herd.core.storage.StorageTable.MAX_COPIES
                + " (one per zone), or leave it out for the snapshot's"));
        }
        return present("snapshot", clone.snapshot()).or(() -> present("new volume", clone.newName()));
    }

    public static Optional<Rejection> checkRollback(Command.RollbackVolume rollback) {
        return present("volume", rollback.volume()).or(() -> present("snapshot", rollback.snapshot()));
    }

    public static Optional<Rejection> checkAttach(Command.AttachVolume attach) {
        return present("volume", attach.volume()).or(() -> present("node", attach.node()));
    }

    public static Optional<Rejection> checkInodeEntries(Command.SetInodeEntries set) {
        List<InodeEntry> entries = set.entries();
        if (entries == null || entries.isEmpty() || entries.size() > MAX_INODE_ENTRIES_PER_COMMAND) {
            return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, "an inode update needs 1 to "
                + MAX_INODE_ENTRIES_PER_COMMAND + " entries; split larger updates"));
        }
        for (InodeEntry entry : entries) {
            if (entry == null || entry.index() < 0 || entry.ownerVolumeId() == 0) {
                return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, "inode entry " + entry
                    + " is not valid: the index must be 0 or more and the owner a volume id (not 0)"));
            }
        }
        return Optional.empty();
    }

    /** The rejection for a catalog refusal: its message, and the error code its kind maps to. */
    public static Rejection rejection(CatalogResult.Refused refused) {
        return new Rejection(errorCode(refused.code()), refused.message());
    }

    public static ErrorCode errorCode(RefusalCode code) {
        return switch (code) {
            case INVALID, LIMIT -> ErrorCode.BAD_REQUEST;
            case CONFLICT -> ErrorCode.CONFLICT;
            case NOT_FOUND -> ErrorCode.NOT_FOUND;
        };
    }

    static String tagOrEmpty(String tag) {
        return tag == null ? "" : tag;
    }

    public static Optional<Rejection> present(String what, String name) {
        if (name == null || name.isBlank()) {
            return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, "the " + what + " name is missing"));
        }
        return Optional.empty();
    }
}
