package herd.blockcore.volume;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.BiConsumer;

/**
 * One volume's sparse object map (Sheepdog's {@code data_vdi_id}): for each object index the volume
 * has an entry for, the id of the volume that owns the object holding that index's data. An index
 * without an entry falls through to the parent's inode. Only indexes that were written appear, so a
 * new snapshot or clone starts with an empty inode and costs nothing.
 *
 * <p>Immutable, kept as two sorted int arrays (8 bytes per written object): {@link #with} copies
 * them, which happens once per object on its first write, not on every write.
 */
public final class Inode {
    private static final Inode EMPTY = new Inode(new int[0], new int[0]);

    private final int[] indexes; // sorted as unsigned numbers
    private final int[] owners;

    private Inode(int[] indexes, int[] owners) {
        this.indexes = indexes;
        this.owners = owners;
    }

    public static Inode empty() {
        return EMPTY;
    }

    /** An inode holding these entries (index to owning volume id). */
    public static Inode of(Map<Integer, Integer> ownersByIndex) {
        Inode inode = EMPTY;
        for (Map.Entry<Integer, Integer> entry : ownersByIndex.entrySet()) {
            inode = inode.with(entry.getKey(), entry.getValue());
        }
        return inode;
    }

    /** The volume id owning index {@code index}, or empty when this inode falls through. */
    public OptionalInt owner(int index) {
        int position = find(index);
        return position >= 0 ? OptionalInt.of(owners[position]) : OptionalInt.empty();
    }

    /** This inode with index {@code index} owned by {@code ownerId}. */
    public Inode with(int index, int ownerId) {
        int position = find(index);
        if (position >= 0) {
            if (owners[position] == ownerId) {
                return this;
            }
            int[] newOwners = owners.clone();
            newOwners[position] = ownerId;
            return new Inode(indexes, newOwners);
        }
        int insertAt = -position - 1;
        return new Inode(insert(indexes, insertAt, index), insert(owners, insertAt, ownerId));
    }

    public int size() {
        return indexes.length;
    }

    public boolean isEmpty() {
        return indexes.length == 0;
    }

    /** Calls {@code action} with (index, owner) for each entry, in index order. */
    public void forEach(BiConsumer<Integer, Integer> action) {
        for (int i = 0; i < indexes.length; i++) {
            action.accept(indexes[i], owners[i]);
        }
    }

    /** The entries as a map, in index order (for codecs and tests). */
    public Map<Integer, Integer> toMap() {
        Map<Integer, Integer> map = new LinkedHashMap<>();
        forEach(map::put);
        return map;
    }

    private int find(int index) {
        int low = 0;
        int high = indexes.length - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            int order = Integer.compareUnsigned(indexes[middle], index);
            if (order < 0) {
                low = middle + 1;
            } else if (order > 0) {
                high = middle - 1;
            } else {
                return middle;
            }
        }
        return -(low + 1);
    }

    private static int[] insert(int[] array, int at, int value) {
        int[] longer = new int[array.length + 1];
        System.arraycopy(array, 0, longer, 0, at);
        longer[at] = value;
        System.arraycopy(array, at, longer, at + 1, array.length - at);
        return longer;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Inode that && Arrays.equals(indexes, that.indexes) && Arrays.equals(owners, that.owners);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(indexes) + Arrays.hashCode(owners);
    }

    @Override
    public String toString() {
        return "Inode" + toMap();
    }
}
