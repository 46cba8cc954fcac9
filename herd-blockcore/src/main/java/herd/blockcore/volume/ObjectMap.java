package herd.blockcore.volume;

import herd.blockcore.BlockLimits;
import herd.blockcore.ObjectId;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The pure lookups between a volume's byte space and its objects: reads fall through the parent
 * chain, writes copy on write, and reclamation finds the objects nobody can read any more. The
 * inodes are passed as a map from volume id to {@link Inode}; a missing id means an empty inode.
 */
public final class ObjectMap {
    private ObjectMap() {}

    /**
     * The object holding index {@code index} of entry {@code volumeId}, or empty when the index has
     * never been written anywhere on its chain (it reads as zeros). Walks the entry, its parent, and
     * so on; the first inode with an entry for the index decides.
     *
     * @throws IllegalArgumentException when the id is not in the catalog or the index is beyond the
     *     entry's size: callers check offsets against the size first
     */
    public static Optional<ObjectId> resolve(VolumeCatalog catalog, Map<Integer, Inode> inodes, int volumeId, int index) {
        List<Volume> chain = catalog.chain(volumeId);
        checkIndex(chain.getFirst(), index);
        for (Volume entry : chain) {
            OptionalInt owner = inodes.getOrDefault(entry.id(), Inode.empty()).owner(index);
            if (owner.isPresent()) {
                return Optional.of(ObjectId.of(owner.getAsInt(), index));
            }
        }
        return Optional.empty();
    }

    /**
     * Where a write to index {@code index} of working volume {@code volumeId} goes. The volume always
     * writes its own object {@code (volumeId, index)}: if the index currently reads from another
     * object, that object's data is copied first (copy-on-write) and the inode update makes the
     * volume own the index; later writes to the index go straight to the same object.
     *
     * @throws IllegalArgumentException when the id is not in the catalog or the index is beyond the
     *     volume's size
     */
    public static WritePlan writeTarget(VolumeCatalog catalog, Map<Integer, Inode> inodes, int volumeId, int index) {
        Volume volume = catalog.byId(volumeId).orElseThrow(() -> new IllegalArgumentException(
            "volume id " + Integer.toUnsignedString(volumeId) + " is not in the catalog"));
        if (volume.deleted()) {
            return new WritePlan.Refused("id " + volume.idText() + " belongs to deleted snapshot '" + volume.name() + "'");
        }
        if (volume.isSnapshot()) {
            return new WritePlan.Refused("id " + volume.idText() + " is now read-only snapshot '" + volume.name()
                + "'; the volume it was taken of continues under a new id: look the volume up by name again");
        }
        checkIndex(volume, index);
        ObjectId target = ObjectId.of(volumeId, index);
        Optional<ObjectId> current = resolve(catalog, inodes, volumeId, index);
        if (current.isPresent() && current.get().equals(target)) {
            return new WriteTarget(target, Optional.empty(), Optional.empty());
        }
        return new WriteTarget(target, current, Optional.of(new InodeUpdate(volumeId, index, volumeId)));
    }

    /**
     * The objects named in some inode that no live volume or snapshot can read any more: those of
     * deleted or rolled-back entries, and those of kept deleted snapshots that every dependant has
     * overwritten. An object is reachable when some live entry resolves an index to it; walking each
     * live entry's chain with the set of indexes already decided closer to it finds exactly those.
     */
    public static Set<ObjectId> reclaimable(VolumeCatalog catalog, Map<Integer, Inode> inodes) {
        Set<ObjectId> reachable = reachable(catalog, inodes);
        Set<ObjectId> reclaimable = new TreeSet<>();
        for (Inode inode : inodes.values()) {
            inode.forEach((index, owner) -> {
                ObjectId oid = ObjectId.of(owner, index);
                if (!reachable.contains(oid)) {
                    reclaimable.add(oid);
                }
            });
        }
        return reclaimable;
    }

    /** Every object some live volume or snapshot reads. */
    public static Set<ObjectId> reachable(VolumeCatalog catalog, Map<Integer, Inode> inodes) {
        Set<ObjectId> reachable = new HashSet<>();
        for (Volume live : catalog.list()) {
            Set<Integer> decided = new HashSet<>();
            for (Volume entry : catalog.chain(live.id())) {
                inodes.getOrDefault(entry.id(), Inode.empty()).forEach((index, owner) -> {
                    if (decided.add(index)) {
                        reachable.add(ObjectId.of(owner, index));
                    }
                });
            }
        }
        return reachable;
    }

    /**
     * True when the object's owner was an entry that has left the catalog (its id was issued, below
     * {@link VolumeCatalog#nextId}, and is kept no more). Inode entries name owners on their own
     * chain only, and a chain holds kept entries only, so no live entry reads such an object: it is
     * reclaimable without its inode, which the cluster state therefore drops with the entry.
     */
    public static boolean ownerDropped(VolumeCatalog catalog, ObjectId objectId) {
        return ownerDropped(objectId, catalog.nextId(), id -> catalog.byId(id).isPresent());
    }

    /** The same, from the catalog's next id and a test of which ids it keeps (a storage node's view). */
    public static boolean ownerDropped(ObjectId objectId, long nextId, java.util.function.IntPredicate kept) {
        int owner = objectId.volumeId();
        return Long.compareUnsigned(Integer.toUnsignedLong(owner), nextId) < 0 && !kept.test(owner);
    }

    /** Ids of inodes whose entry has left the catalog: their objects are {@link #ownerDropped}, so they can go. */
    public static Set<Integer> unusedInodes(VolumeCatalog catalog, Map<Integer, Inode> inodes) {
        Set<Integer> unused = new TreeSet<>(Integer::compareUnsigned);
        for (Integer id : inodes.keySet()) {
            if (catalog.byId(id).isEmpty()) {
                unused.add(id);
            }
        }
        return unused;
    }

    private static void checkIndex(Volume volume, int index) {
        long objects = BlockLimits.objectCount(volume.sizeBytes());
        if (index < 0 || index >= objects) {
            throw new IllegalArgumentException("object index " + index + " is beyond " + volume.name()
                + " (id " + volume.idText() + "), which has " + objects + " objects of "
                + ObjectId.OBJECT_SIZE_BYTES + " bytes");
        }
    }
}
