package herd.block.store;

import herd.block.volume.AllocationMap;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One open object: its two files and, in memory, its allocation bitmap and block checksums (the
 * checksum file's content, written through on every change). Reads share the lock, changes take
 * it exclusively, so a reader never sees new data with an old checksum.
 */
final class ObjectHandle {
    final ObjectId objectId;
    final FileChannel data;
    final FileChannel checksums;
    final long[] allocationWords = new long[AllocationMap.WORDS];
    final int[] blockChecksums = new int[AllocationMap.BLOCKS_PER_OBJECT];
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Operations holding this handle; guarded by the store's table of open objects. */
    int users;
    /** Set (under the exclusive lock) when the object's files are gone; holders start over. */
    boolean deleted;

    ObjectHandle(ObjectId objectId, FileChannel data, FileChannel checksums) {
        this.objectId = objectId;
        this.data = data;
        this.checksums = checksums;
    }

    boolean isAllocated(int block) {
        return (allocationWords[block >>> 6] & (1L << (block & 63))) != 0;
    }

    void setAllocated(int block, boolean allocated) {
        if (allocated) {
            allocationWords[block >>> 6] |= 1L << (block & 63);
        } else {
            allocationWords[block >>> 6] &= ~(1L << (block & 63));
        }
    }

    int allocatedBlocks() {
        int count = 0;
        for (long word : allocationWords) {
            count += Long.bitCount(word);
        }
        return count;
    }

    void closeFiles() throws IOException {
        try (data; checksums) {
            // closes both, even if the first close fails
        }
    }
}
