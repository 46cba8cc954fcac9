package herd.core.volume;

import java.util.List;

/** The volume part of a state image: every kept catalog entry, the next id, and every inode. */
public record VolumeImage(List<VolumeRecord> entries, long nextId, List<InodeRecord> inodes) {
    public VolumeImage {
        entries = entries == null ? List.of() : List.copyOf(entries);
        inodes = inodes == null ? List.of() : List.copyOf(inodes);
    }

    /** What an image written before volumes existed stands for. */
    public static VolumeImage empty() {
        return new VolumeImage(List.of(), 1, List.of());
    }
}
