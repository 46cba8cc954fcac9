package herd.blockcore.volume;

import herd.blockcore.ObjectId;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a write to one object index of a volume goes.
 *
 * @param target      the object to write: always the writing volume's own object for that index
 * @param copyFrom    the object whose data must be copied into {@code target} before the write
 *                    (copy-on-write: the index still reads through to an ancestor's object, or
 *                    another volume's). The gateway may skip the copy when the write covers the whole
 *                    object. Empty when the index reads as zeros or {@code target} already holds it.
 * @param inodeUpdate the inode change to record once {@code target} is durable on all its copies;
 *                    empty when the volume already owns the index
 */
public record WriteTarget(ObjectId target, Optional<ObjectId> copyFrom, Optional<InodeUpdate> inodeUpdate)
        implements WritePlan {
    public WriteTarget {
        Objects.requireNonNull(target);
        Objects.requireNonNull(copyFrom);
        Objects.requireNonNull(inodeUpdate);
    }

    /** Whether this write is the object's first from the writing volume (it allocates the object). */
    public boolean allocates() {
        return inodeUpdate.isPresent();
    }
}
