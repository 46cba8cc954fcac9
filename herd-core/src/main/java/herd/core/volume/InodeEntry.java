package herd.core.volume;

/** One inode entry: object index {@code index} reads from the object of volume {@code ownerVolumeId}. */
public record InodeEntry(int index, int ownerVolumeId) {}
