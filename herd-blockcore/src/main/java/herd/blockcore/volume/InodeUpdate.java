package herd.blockcore.volume;

import java.util.HashMap;
import java.util.Map;

/** Index {@code index} of volume {@code volumeId}'s inode now points at owner {@code ownerId}. */
public record InodeUpdate(int volumeId, int index, int ownerId) {

    /** The inodes with this update applied (a new map; the argument is not changed). */
    public Map<Integer, Inode> applyTo(Map<Integer, Inode> inodes) {
        Map<Integer, Inode> updated = new HashMap<>(inodes);
        updated.put(volumeId, inodes.getOrDefault(volumeId, Inode.empty()).with(index, ownerId));
        return updated;
    }
}
