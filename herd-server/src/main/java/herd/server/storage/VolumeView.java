package herd.server.storage;

import herd.blockcore.volume.Inode;
import herd.blockcore.volume.VolumeCatalog;
import herd.core.command.QueryResult;
import herd.core.volume.InodeRecord;
import herd.core.volume.VolumeRecord;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a gateway knows of the volume it serves: the chain from the volume up to its root as a small
 * catalog, the chain's inodes, and which id the volume writes under. Immutable; a first write
 * produces a new view ({@link #withOwnIndex}). Pure.
 */
record VolumeView(String name, int volumeId, long sizeBytes, boolean snapshot, boolean detached, VolumeCatalog chain,
                  Map<Integer, Inode> inodes) {

    static VolumeView of(QueryResult.VolumeDetail detail) {
        VolumeRecord volume = detail.row().volume();
        VolumeCatalog chain = VolumeCatalog.restore(detail.chain().stream().map(VolumeRecord::toVolume).toList(),
            detail.catalogNextId());
        Map<Integer, Inode> inodes = new HashMap<>();
        for (InodeRecord record : detail.chainInodes()) {
            inodes.put(record.volumeId(), record.toInode());
        }
        return new VolumeView(volume.name(), volume.id(), volume.sizeBytes(), volume.isSnapshot(), false, chain,
            Map.copyOf(inodes));
    }

    /** Whether the volume itself owns {@code index}: writes go straight to its object. */
    boolean ownsIndex(int index) {
        OptionalInt owner = inodes.getOrDefault(volumeId, Inode.empty()).owner(index);
        return owner.isPresent() && owner.getAsInt() == volumeId;
    }

    VolumeView withOwnIndex(int index) {
        Map<Integer, Inode> updated = new HashMap<>(inodes);
        updated.put(volumeId, inodes.getOrDefault(volumeId, Inode.empty()).with(index, volumeId));
        return new VolumeView(name, volumeId, sizeBytes, snapshot, detached, chain, Map.copyOf(updated));
    }

    /** This view once the volume is no longer served here: every operation fails. */
    VolumeView closed() {
        return new VolumeView(name, volumeId, sizeBytes, snapshot, true, chain, inodes);
    }

    /** Why an operation cannot run on this view, if it cannot. */
    java.util.Optional<String> unusable(boolean writing) {
        if (detached) {
            return java.util.Optional.of("volume '" + name + "' was detached from this node; reconnect to serve it again");
        }
        if (writing && snapshot) {
            return java.util.Optional.of("'" + name + "' is a read-only snapshot");
        }
        return java.util.Optional.empty();
    }
}
