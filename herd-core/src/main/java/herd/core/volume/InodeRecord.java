package herd.core.volume;

import herd.blockcore.volume.Inode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One volume's inode as plain data: parallel lists of object indexes and owning volume ids, in index order. */
public record InodeRecord(int volumeId, List<Integer> indexes, List<Integer> owners) {
    public InodeRecord {
        indexes = List.copyOf(indexes);
        owners = List.copyOf(owners);
        if (indexes.size() != owners.size()) {
            throw new IllegalArgumentException("inode of volume " + Integer.toUnsignedString(volumeId) + " has "
                + indexes.size() + " indexes but " + owners.size() + " owners");
        }
    }

    public static InodeRecord of(int volumeId, Inode inode) {
        List<Integer> indexes = new ArrayList<>(inode.size());
        List<Integer> owners = new ArrayList<>(inode.size());
        inode.forEach((index, owner) -> {
            indexes.add(index);
            owners.add(owner);
        });
        return new InodeRecord(volumeId, indexes, owners);
    }

    public Inode toInode() {
        Map<Integer, Integer> entries = new LinkedHashMap<>();
        for (int i = 0; i < indexes.size(); i++) {
            entries.put(indexes.get(i), owners.get(i));
        }
        return Inode.of(entries);
    }
}
