package herd.core.volume;

import herd.blockcore.volume.Volume;
import herd.blockcore.volume.VolumeKind;
import java.util.Optional;

/**
 * One catalog entry as plain data, for state images, query answers and the API. Ids are the raw
 * 32-bit values (print them unsigned); {@code attachedNode} is null when no node serves the volume.
 */
public record VolumeRecord(int id, String name, long sizeBytes, int copies, long createdMillis, String tag, VolumeKind kind,
                           int parentId, int lineageId, boolean deleted, String attachedNode) {

    public static VolumeRecord of(Volume volume) {
        return new VolumeRecord(volume.id(), volume.name(), volume.sizeBytes(), volume.copies(), volume.createdMillis(),
            volume.tag(), volume.kind(), volume.parentId(), volume.lineageId(), volume.deleted(),
            volume.attachedNode().orElse(null));
    }

    public Volume toVolume() {
        return new Volume(id, name, sizeBytes, copies, createdMillis, tag == null ? "" : tag, kind, parentId, lineageId,
            deleted, Optional.ofNullable(attachedNode));
    }

    public boolean isSnapshot() {
        return kind == VolumeKind.SNAPSHOT;
    }

    /** The id as operators see it: unsigned decimal. */
    public String idText() {
        return Integer.toUnsignedString(id);
    }
}
