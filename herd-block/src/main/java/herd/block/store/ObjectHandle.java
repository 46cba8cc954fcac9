package herd.block.store;

import herd.block.volume.AllocationMap;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One open object: its data file and, in memory, its allocation bitmap and block checksums (the
 * file's trailer, written through on every change). Reads share the lock, changes take
 * it exclusively, so a reader never sees new data with an old checksum.
 */
final class ObjectHandle {
    final ObjectId objectId;
    /** The data file: the object's data, then its trailer ({@link ObjectTrailer}). */
    final FileChannel file;
    final long[] allocationWords = new long[AllocationMap.WORDS];
    final int[] blockChecksums = new int[AllocationMap.BLOCKS_PER_OBJECT];
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Operations holding this handle; guarded by the store's table of open objects. */
    int users;
    /** Set (under the exclusive lock) when the object's files are gone; holders start over. */
    boolean deleted;

    ObjectHandle(ObjectId objectId, FileChannel file) {
        this.objectId = objectId;
        this.file = file;
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

    void closeFile() throws IOException {
        file.close();
    }
}
