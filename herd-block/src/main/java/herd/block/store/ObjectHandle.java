package herd.block.store;

import herd.block.volume.AllocationMap;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One open object: its data file and, in memory, its allocation bitmap and block checksums (the
 * file's trailer). Reads share the lock, changes take it exclusively, so a reader never sees new
 * data with an old checksum.
 *
 * <p>Writes change the trailer in memory only and note what changed; the store writes the changed
 * part to the file before a sync, before the file is closed, and every few seconds
 * ({@link ObjectStore}). The fields that note it are changed by writers under the exclusive lock
 * and cleared under the shared lock while holding this handle's monitor.
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
    /** The bitmap in memory differs from the file's. */
    boolean bitmapStale;
    /** Blocks [staleChecksumsFrom, staleChecksumsTo) have checksums in memory the file lacks; empty when equal. */
    int staleChecksumsFrom;
    int staleChecksumsTo;

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

    /** Notes that blocks [fromBlock, toBlock) changed their checksums, and the bitmap when it changed. */
    void markTrailerStale(int fromBlock, int toBlock, boolean allocationChanged) {
        bitmapStale |= allocationChanged;
        if (staleChecksumsFrom == staleChecksumsTo) {
            staleChecksumsFrom = fromBlock;
            staleChecksumsTo = toBlock;
        } else {
            staleChecksumsFrom = Math.min(staleChecksumsFrom, fromBlock);
            staleChecksumsTo = Math.max(staleChecksumsTo, toBlock);
        }
    }

    boolean trailerStale() {
        return bitmapStale || staleChecksumsFrom != staleChecksumsTo;
    }

    void markTrailerWritten() {
        bitmapStale = false;
        staleChecksumsFrom = 0;
        staleChecksumsTo = 0;
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
