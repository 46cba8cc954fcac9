package herd.block.store;

import herd.block.volume.AllocationMap;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.StampedLock;

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
    /**
     * A {@link StampedLock}, whose shared side keeps no count per thread: a
     * {@code ReentrantReadWriteLock} looks up a thread-local counter, and drops it, whenever another
     * thread took it last, which with the NBD workers taking turns was every read. Not reentrant: a
     * section holding it works on this handle only and never takes it again.
     */
    final ReadWriteLock lock = new StampedLock().asReadWriteLock();
    /** {@link #users} once the store has closed the file for being idle: no holder may come any more. */
    private static final int CLOSED = Integer.MIN_VALUE;
    /**
     * Operations holding this handle, or {@link #CLOSED}. Counted without the store's table monitor,
     * so that operations on different objects share no lock; the table closes an idle handle by
     * swapping 0 for {@link #CLOSED}, so that no holder can arrive between its check and the close.
     */
    private final AtomicInteger users = new AtomicInteger();
    /**
     * Used since the table last looked at it for closing: it gets a second chance (the clock
     * algorithm), which keeps the recently used open without reordering the table at every use.
     */
    volatile boolean recentlyUsed = true;
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

    /** Counts one more holder; false if the file was closed for being idle (open the object again). */
    boolean tryUse() {
        while (true) {
            int holders = users.get();
            if (holders == CLOSED) {
                return false;
            }
            if (users.compareAndSet(holders, holders + 1)) {
                return true;
            }
        }
    }

    void release() {
        users.decrementAndGet();
    }

    /** Whether the handle had no holder and is now closed to new ones; undone by {@link #reopenAfterFailedClose}. */
    boolean closeIfIdle() {
        return users.compareAndSet(0, CLOSED);
    }

    /** The file stays open after all (its trailer could not be written): holders may come again. */
    void reopenAfterFailedClose() {
        users.set(0);
    }

    void closeFile() throws IOException {
        file.close();
    }
}
