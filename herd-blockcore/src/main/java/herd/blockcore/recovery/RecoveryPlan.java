package herd.blockcore.recovery;

import herd.blockcore.ObjectId;
import java.util.List;

/**
 * What must happen for the objects to sit where the ring of {@code epoch} places them.
 *
 * @param copies      copies to make, by object then target
 * @param deletions   surplus copies to delete; only for objects whose new placement is complete
 * @param lost        objects with no complete copy on any reporting node: nothing can restore them
 *                    (unless a missing node comes back), and the operator must hear of it
 * @param unplaceable objects the new ring cannot place; their copies are kept where they are
 */
public record RecoveryPlan(
        long epoch,
        List<CopyTask> copies,
        List<DeleteTask> deletions,
        List<ObjectId> lost,
        List<UnplaceableObject> unplaceable) {

    public RecoveryPlan {
        copies = List.copyOf(copies);
        deletions = List.copyOf(deletions);
        lost = List.copyOf(lost);
        unplaceable = List.copyOf(unplaceable);
    }

    /** Nothing to copy or delete (lost and unplaceable objects may remain: they need an operator). */
    public boolean isEmpty() {
        return copies.isEmpty() && deletions.isEmpty();
    }
}
