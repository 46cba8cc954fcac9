package herd.blockcore.volume;

import java.util.Objects;
import java.util.Optional;

/**
 * One entry of the {@link VolumeCatalog}: a working volume or a snapshot (Sheepdog's VDI).
 *
 * @param id          the 32-bit id its objects are named by (compare and print it unsigned); a working
 *                    volume gets a new id at every snapshot and rollback, see the package description
 * @param parentId    the snapshot this entry falls through to for unwritten objects, or
 *                    {@link #NO_PARENT}
 * @param lineageId   the id the volume got when it was created or cloned; shared by the volume and
 *                    every snapshot taken of it, so a rollback can check the snapshot is the volume's
 * @param deleted     a snapshot deleted while clones still read through it: hidden from listings,
 *                    its name free again, kept until its last dependant is gone
 * @param attachedNode the node whose gateway serves the volume, if any
 */
public record Volume(
        int id,
        String name,
        long sizeBytes,
        int copies,
        long createdMillis,
        String tag,
        VolumeKind kind,
        int parentId,
        int lineageId,
        boolean deleted,
        Optional<String> attachedNode) {

    /** Ids count from 1, so 0 never names an entry. */
    public static final int NO_PARENT = 0;

    public Volume {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(attachedNode, "attachedNode");
        if (id == NO_PARENT) {
            throw new IllegalArgumentException("volume id 0 is reserved for 'no parent'");
        }
    }

    public boolean hasParent() {
        return parentId != NO_PARENT;
    }

    public boolean isSnapshot() {
        return kind == VolumeKind.SNAPSHOT;
    }

    /** The id as operators see it: unsigned decimal. */
    public String idText() {
        return Integer.toUnsignedString(id);
    }

    Volume withId(int newId) {
        return new Volume(newId, name, sizeBytes, copies, createdMillis, tag, kind, parentId, lineageId, deleted, attachedNode);
    }

    Volume withParent(int newParentId) {
        return new Volume(id, name, sizeBytes, copies, createdMillis, tag, kind, newParentId, lineageId, deleted, attachedNode);
    }

    Volume withSize(long newSizeBytes) {
        return new Volume(id, name, newSizeBytes, copies, createdMillis, tag, kind, parentId, lineageId, deleted, attachedNode);
    }

    Volume withAttachment(Optional<String> node) {
        return new Volume(id, name, sizeBytes, copies, createdMillis, tag, kind, parentId, lineageId, deleted, node);
    }

    Volume asDeleted() {
        return new Volume(id, name, sizeBytes, copies, createdMillis, tag, kind, parentId, lineageId, true, Optional.empty());
    }
}
