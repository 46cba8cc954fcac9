package herd.core.volume;

/**
 * One line of {@code herd volume list} (like {@code dog vdi list}).
 *
 * @param usedBytes   bytes of objects this entry owns (written by it), in whole 4 MiB objects
 * @param sharedBytes bytes this entry reads from its ancestors' objects, in whole 4 MiB objects
 */
public record VolumeRow(VolumeRecord volume, long usedBytes, long sharedBytes) {}
