package herd.block.store;

import static herd.block.volume.AllocationMap.BLOCK_SIZE_BYTES;

import herd.block.Done;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectIo;
import herd.block.volume.ObjectResult;
import herd.block.volume.UnsyncedObjects;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's objects on disk. Each object is one sparse file named by {@link ObjectId#hex()}: its
 * 4 MiB of data (offset in file = offset in object), then a trailer ({@link ObjectTrailer}) with an
 * allocation bitmap and a CRC32C per 4 KiB block. Files are spread
 * over {@value #SUBDIRECTORIES} sub-directories of {@code objects/} by a hash of the id.
 *
 * <p>Reads verify every block they touch and answer {@link ObjectError.Corrupt} instead of bad
 * data; blocks never written read as zeros without touching the disk. A write puts its data in the
 * page cache and its checksums in memory; the changed part of the trailer is written to the file
 * before a sync, before the file is closed, and at the latest {@value #TRAILER_WRITE_BACK_SECONDS} s
 * later, so that a write costs one {@code pwrite} and not two. {@link #sync} forces the file, data
 * and checksums in one {@code fdatasync}, and (for created or deleted objects) the directory. A
 * write that would take the store past its capacity fails with {@link ObjectError.NoSpace} and
 * changes nothing; so does one the file system itself has no room for (ENOSPC, when other data
 * filled the disk), because a write's new blocks go to the file before the blocks it overwrites.
 * Capacity counts allocated 4 KiB data blocks; the trailers (about 0.1%) are not counted.
 *
 * <p>Java cannot punch holes, so released blocks are zeroed on disk and cleared in the bitmap; an
 * object whose last block is released is deleted, which frees its space.
 *
 * <p>The store knows which objects it holds (listed when it opens, then kept as it creates and
 * deletes them), so a file that disappears behind its back (removed by hand, lost by the file
 * system) is a damaged copy ({@link ObjectError.Corrupt#FILE_MISSING}), to be replaced from another,
 * and not an object that does not exist: that answer would read as zeros, and a write would start
 * a new, empty object in its place. A file removed while open goes on serving from the open file
 * until the store closes it (the data is all there, and another node may be copying it).
 */
public final class ObjectStore implements ObjectIo, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ObjectStore.class);

    /** Sub-directories of {@code objects/}, so that no directory grows to millions of entries. */
    public static final int SUBDIRECTORIES = 64;
    /** Objects kept open (one file descriptor each); idle ones beyond this are closed. */
    public static final int MAX_OPEN_OBJECTS = 512;
    /** Corrupt blocks remembered for {@link #corruptionsSeen()} (for repair); older ones drop. */
    public static final int MAX_REMEMBERED_CORRUPTIONS = 1024;
    /**
     * How long changed checksums may stay in memory only. Unsynced data is not promised to survive
     * a crash, but the page cache writes it back within about 30 s; writing its checksums within
     * a few seconds keeps such data readable after a crash, as it was when they were written through.
     */
    public static final int TRAILER_WRITE_BACK_SECONDS = 5;

    private static final byte[] ZERO_OBJECT = new byte[ObjectId.OBJECT_SIZE_BYTES];

    private final Path directory;
    private final Path objectsDirectory;
    private final long capacityBytes;
    private final AtomicLong usedBytes;
    private final FileChannel lockFile;
    private final FileLock storeLock;
    /**
     * Open objects, the first to consider for closing first ({@link #closeIdleObjects}); its monitor
     * guards it and every change of {@link #openIndex}, and is taken to open, close or delete an object.
     */
    private final LinkedHashMap<ObjectId, ObjectHandle> openObjects = new LinkedHashMap<>();
    /**
     * The same objects, for finding an open one without the monitor: an operation on an open object
     * takes no lock shared by all objects ({@link #acquire}).
     */
    private final Map<ObjectId, ObjectHandle> openIndex = new ConcurrentHashMap<>();
    /** Objects changed, created or deleted since their last sync, open or not, and the syncs under way. */
    private final UnsyncedObjects unsynced = new UnsyncedObjects();
    /** Every object this store holds; changed under the monitor of {@link #openObjects}. */
    private final Set<ObjectId> heldObjects = ConcurrentHashMap.newKeySet();
    /** Objects created or deleted since their last sync: their directory must be forced too. */
    private final Set<ObjectId> directoryChanges = ConcurrentHashMap.newKeySet();
    private final Map<ObjectError.Corrupt, Boolean> corruptions =
            java.util.Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ObjectError.Corrupt, Boolean> eldest) {
                    return size() > MAX_REMEMBERED_CORRUPTIONS;
                }
            });
    private final ScheduledExecutorService trailerWriteBack;
    /** Every operation that may touch the disk, so that a hung disk shows (see {@link #longestWait()}). */
    private final InFlightOperations operations = new InFlightOperations();
    private volatile boolean closed;

    private ObjectStore(Path directory, long capacityBytes, long usedBytes, List<ObjectId> heldObjects,
            FileChannel lockFile, FileLock storeLock, Duration trailerWriteBackPeriod) {
        this.directory = directory;
        this.objectsDirectory = directory.resolve("objects");
        this.capacityBytes = capacityBytes;
        this.usedBytes = new AtomicLong(usedBytes);
        this.lockFile = lockFile;
        this.storeLock = storeLock;
        this.heldObjects.addAll(heldObjects);
        this.trailerWriteBack = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("trailer-write-back").factory());
        trailerWriteBack.scheduleWithFixedDelay(this::writeBackTrailers, trailerWriteBackPeriod.toMillis(),
                trailerWriteBackPeriod.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Opens (creating if needed) the store in {@code directory}. Takes an exclusive lock on the
     * directory, removes the leftovers of objects whose creation a crash interrupted and counts the
     * used space.
     *
     * @throws IOException when the directory cannot be used, with the reason and the path
     */
    public static ObjectStore open(Path directory, long capacityBytes) throws IOException {
        return open(directory, capacityBytes, Duration.ofSeconds(TRAILER_WRITE_BACK_SECONDS));
    }

    /** As {@link #open(Path, long)}, with another period for the trailers' write-back (for tests). */
    static ObjectStore open(Path directory, long capacityBytes, Duration trailerWriteBackPeriod) throws IOException {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("store capacity must be positive, got " + capacityBytes + " bytes");
        }
        Path objects = directory.resolve("objects");
        for (int subdirectory = 0; subdirectory < SUBDIRECTORIES; subdirectory++) {
            Files.createDirectories(objects.resolve(subdirectoryName(subdirectory)));
        }
        forceDirectory(objects);
        forceDirectory(directory);
        FileChannel lockFile = FileChannel.open(directory.resolve("lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock storeLock;
        try {
            storeLock = lockFile.tryLock();
        } catch (OverlappingFileLockException e) {
            storeLock = null; // this process has it open already
        }
        if (storeLock == null) {
            lockFile.close();
            throw new IOException("object store " + directory + " is in use by another process; stop it or "
                    + "choose another directory");
        }
        StoreScan.Contents contents = StoreScan.contents(objects);
        long used = contents.usedBytes();
        if (used > capacityBytes) {
            log.warn("object store {} holds {} bytes, more than its capacity of {}; writes that need new space "
                    + "will fail", directory, used, capacityBytes);
        }
        log.info("object store {} opened: {} of {} bytes used", directory, used, capacityBytes);
        return new ObjectStore(directory, capacityBytes, used, contents.objects(), lockFile, storeLock,
                trailerWriteBackPeriod);
    }

    public Path directory() {
        return directory;
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    /** Bytes of allocated 4 KiB blocks over all objects. */
    public long usedBytes() {
        return usedBytes.get();
    }

    public long freeBytes() {
        return Math.max(0, capacityBytes - usedBytes.get());
    }

    /** Corrupt blocks that reads have met, oldest first, at most {@value #MAX_REMEMBERED_CORRUPTIONS}. */
    public List<ObjectError.Corrupt> corruptionsSeen() {
        synchronized (corruptions) {
            return List.copyOf(corruptions.keySet());
        }
    }

    @Override
    public ObjectResult<Done> read(ObjectId objectId, int offsetInObject, ByteBuffer destination) {
        int length = destination.remaining();
        checkRange(offsetInObject, length);
        return withObject(objectId, false, false, handle -> readLocked(handle, offsetInObject, destination));
    }

    @Override
    public ObjectResult<Done> write(ObjectId objectId, int offsetInObject, ByteBuffer source) {
        int length = source.remaining();
        checkRange(offsetInObject, length);
        if (length == 0) {
            return ObjectResult.done();
        }
        return withObject(objectId, true, true, handle -> {
            ObjectResult<Done> result = writeLocked(handle, offsetInObject, source);
            deleteIfEmpty(handle);
            return result;
        });
    }

    @Override
    public ObjectResult<Done> writeZeroes(ObjectId objectId, int offsetInObject, int length, boolean allocate) {
        checkRange(offsetInObject, length);
        if (length == 0) {
            return ObjectResult.done();
        }
        if (allocate) {
            return write(objectId, offsetInObject, ByteBuffer.wrap(ZERO_OBJECT, 0, length).asReadOnlyBuffer());
        }
        return absentIsDone(withObject(objectId, false, true, handle -> {
            ObjectResult<Done> result = zeroLocked(handle, offsetInObject, length);
            deleteIfEmpty(handle);
            return result;
        }));
    }

    @Override
    public ObjectResult<Done> trim(ObjectId objectId, int offsetInObject, int length) {
        checkRange(offsetInObject, length);
        int firstWholeBlock = Math.ceilDiv(offsetInObject, BLOCK_SIZE_BYTES);
        int endWholeBlock = (offsetInObject + length) / BLOCK_SIZE_BYTES;
        if (firstWholeBlock >= endWholeBlock) {
            return ObjectResult.done();
        }
        return absentIsDone(withObject(objectId, false, true, handle -> {
            releaseBlocks(handle, firstWholeBlock, endWholeBlock);
            deleteIfEmpty(handle);
            return ObjectResult.done();
        }));
    }

    @Override
    public ObjectResult<AllocationMap> allocation(ObjectId objectId) {
        return withObject(objectId, false, false,
                handle -> ObjectResult.ok(AllocationMap.ofWords(handle.allocationWords)));
    }

    @Override
    public ObjectResult<Done> flush(Collection<ObjectId> objectIds) {
        for (ObjectId objectId : objectIds) {
            ObjectResult<Done> result = sync(objectId);
            if (result instanceof ObjectResult.Failed<Done>) {
                return result;
            }
        }
        return ObjectResult.done();
    }

    /**
     * Makes the object's completed changes durable: forces its file (data and trailer) and, if the
     * object was created or deleted since its last sync, its directory. An absent object that was
     * never created has nothing to sync. A sync of the object that another caller began first is
     * waited for: it took the object's mark, so this one finds nothing to force.
     */
    public ObjectResult<Done> sync(ObjectId objectId) {
        return unsynced.sync(objectId, taken -> taken.isEmpty() ? ObjectResult.done() : force(objectId));
    }

    private ObjectResult<Done> force(ObjectId objectId) {
        ObjectResult<Done> filesSynced = absentIsDone(withObject(objectId, false, false, handle -> {
            writeStaleTrailer(handle);
            handle.file.force(false);
            return ObjectResult.done();
        }));
        if (filesSynced instanceof ObjectResult.Failed<Done> || !directoryChanges.remove(objectId)) {
            return filesSynced;
        }
        int ticket = operations.begin();
        try {
            forceDirectory(objectDirectory(objectId));
            return ObjectResult.done();
        } catch (IOException e) {
            directoryChanges.add(objectId);
            return ioFailure(objectId, "cannot sync its directory: " + e);
        } finally {
            operations.end(ticket);
        }
    }

    /**
     * Deletes the object and frees its space; deleting an absent object, one whose file is missing or
     * one whose trailer is damaged (as a replacement does first) is done.
     */
    public ObjectResult<Done> delete(ObjectId objectId) {
        if (forgetMissingFile(objectId)) {
            return ObjectResult.done();
        }
        ObjectResult<Done> deleted = absentIsDone(withObject(objectId, false, true, handle -> {
            deleteLocked(handle);
            return ObjectResult.done();
        }));
        if (deleted instanceof ObjectResult.Failed<Done>(ObjectError.Corrupt damaged)
                && damaged.blockIndex() == ObjectError.Corrupt.TRAILER_DAMAGED) {
            return deleteDamagedFile(objectId);
        }
        return deleted;
    }

    /**
     * How long the oldest operation still running on this store has waited, to the second (zero when
     * none runs). Touches no disk, so it answers while the disk hangs: operations that wait far longer
     * than a disk ever takes mean that it does.
     */
    public Duration longestWait() {
        return operations.longestWait();
    }

    /** Where other parts of the node that write to this store's disk count their operations, as the store does. */
    public InFlightOperations operations() {
        return operations;
    }

    /** Every object the store holds (a copy whose file went missing too: it is still to be replaced), in id order. */
    public List<ObjectId> list() {
        List<ObjectId> objectIds = new ArrayList<>(heldObjects);
        objectIds.sort(null);
        return objectIds;
    }

    /**
     * Writes the trailers changed in memory to their files (without forcing them), as the page cache
     * writes back changed data; runs every {@value #TRAILER_WRITE_BACK_SECONDS} s.
     */
    void writeBackTrailers() {
        try {
            writeBackOpenTrailers();
        } catch (RuntimeException e) { // a scheduled task that throws is never run again
            log.error("object store {}: writing changed checksums failed; the next sync writes them", directory, e);
        }
    }

    private void writeBackOpenTrailers() {
        for (ObjectId objectId : unsynced.markedNow()) {
            ObjectHandle handle;
            synchronized (openObjects) {
                handle = closed ? null : openObjects.get(objectId); // not a use: recentlyUsed stays as it is
                if (handle == null || !handle.tryUse()) {
                    continue; // a closed file had its trailer written first
                }
            }
            int ticket = operations.begin();
            handle.lock.readLock().lock();
            try {
                if (!handle.deleted) {
                    writeStaleTrailer(handle);
                }
            } catch (IOException e) {
                log.debug("object {}: cannot write its changed checksums; the next sync writes them: {}", objectId,
                        e.toString());
            } finally {
                handle.lock.readLock().unlock();
                handle.release();
                operations.end(ticket);
            }
        }
    }

    /** Forces every changed object and closes the files; the store cannot be used afterwards. */
    @Override
    public void close() throws IOException {
        synchronized (openObjects) {
            if (closed) {
                return;
            }
        }
        trailerWriteBack.shutdown(); // not shutdownNow: an interrupt would close the file it writes
        try {
            trailerWriteBack.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ObjectId objectId : unsynced.markedNow()) {
            if (sync(objectId) instanceof ObjectResult.Failed<Done>(ObjectError error)) {
                log.error("object store {} closes with unsynced data: {}", directory, error.describe());
            }
        }
        synchronized (openObjects) {
            if (closed) {
                return;
            }
            closed = true;
            for (ObjectHandle handle : openObjects.values()) {
                handle.closeFile();
            }
            openObjects.clear();
            openIndex.clear();
        }
        for (ObjectId objectId : directoryChanges) {
            forceDirectory(objectDirectory(objectId));
        }
        storeLock.release();
        lockFile.close();
    }

    // ---- operations under the object's lock

    private ObjectResult<Done> readLocked(ObjectHandle handle, int offsetInObject, ByteBuffer destination)
            throws IOException {
        int length = destination.remaining();
        int start = destination.position();
        int end = offsetInObject + length;
        int block = offsetInObject / BLOCK_SIZE_BYTES;
        while (block * BLOCK_SIZE_BYTES < end) {
            boolean allocated = handle.isAllocated(block);
            int runEnd = block + 1;
            while (runEnd * BLOCK_SIZE_BYTES < end && handle.isAllocated(runEnd) == allocated) {
                runEnd++;
            }
            int from = Math.max(offsetInObject, block * BLOCK_SIZE_BYTES);
            int to = Math.min(end, runEnd * BLOCK_SIZE_BYTES);
            int destinationIndex = start + (from - offsetInObject);
            if (allocated) {
                // whole blocks go straight into the caller's buffer; partial ones through a block buffer
                boolean wholeBlocks = from == block * BLOCK_SIZE_BYTES && to == runEnd * BLOCK_SIZE_BYTES;
                ByteBuffer blocks = wholeBlocks ? destination.slice(destinationIndex, to - from)
                        : ByteBuffer.allocate((runEnd - block) * BLOCK_SIZE_BYTES);
                ObjectResult<Done> loaded = loadVerified(handle, block, blocks);
                if (loaded instanceof ObjectResult.Failed<Done>) {
                    return loaded;
                }
                if (!wholeBlocks) {
                    destination.put(destinationIndex, blocks, from - block * BLOCK_SIZE_BYTES, to - from);
                }
            } else {
                destination.put(destinationIndex, ZERO_OBJECT, 0, to - from);
            }
            block = runEnd;
        }
        destination.position(start + length);
        return ObjectResult.done();
    }

    /**
     * Writes whole blocks: partial first and last blocks are merged with their current content
     * (which must verify); the data goes to the data file, the checksums to the trailer in memory.
     */
    private ObjectResult<Done> writeLocked(ObjectHandle handle, int offsetInObject, ByteBuffer source)
            throws IOException {
        int length = source.remaining();
        int firstBlock = offsetInObject / BLOCK_SIZE_BYTES;
        int endBlock = Math.ceilDiv(offsetInObject + length, BLOCK_SIZE_BYTES);
        ByteBuffer blocks;
        if (offsetInObject % BLOCK_SIZE_BYTES == 0 && length % BLOCK_SIZE_BYTES == 0) {
            blocks = source.slice(source.position(), length); // whole blocks: written as they are, no copy
        } else {
            blocks = ByteBuffer.allocate((endBlock - firstBlock) * BLOCK_SIZE_BYTES);
            ObjectResult<Done> edges = loadPartialEdges(handle, offsetInObject, length, blocks);
            if (edges instanceof ObjectResult.Failed<Done>) {
                return edges;
            }
            blocks.put(offsetInObject - firstBlock * BLOCK_SIZE_BYTES, source, source.position(), length);
        }
        int newBlocks = 0;
        for (int block = firstBlock; block < endBlock; block++) {
            newBlocks += handle.isAllocated(block) ? 0 : 1;
        }
        ObjectResult<Done> reserved = reserve((long) newBlocks * BLOCK_SIZE_BYTES);
        if (reserved instanceof ObjectResult.Failed<Done>) {
            return reserved;
        }
        try {
            writeNewBlocksFirst(handle, blocks, firstBlock, newBlocks);
        } catch (IOException e) {
            usedBytes.addAndGet(-(long) newBlocks * BLOCK_SIZE_BYTES);
            if (isNoSpace(e)) {
                return fileSystemFull(handle.objectId, (long) newBlocks * BLOCK_SIZE_BYTES, e);
            }
            throw e;
        }
        unsynced.mark(handle.objectId);
        for (int block = firstBlock; block < endBlock; block++) {
            handle.blockChecksums[block] = crc32c(blocks, (block - firstBlock) * BLOCK_SIZE_BYTES);
            handle.setAllocated(block, true);
        }
        handle.markTrailerStale(firstBlock, endBlock, newBlocks > 0);
        source.position(source.position() + length);
        return ObjectResult.done();
    }

    /**
     * Writes {@code blocks} (from {@code firstBlock} on) to the data file, the blocks not allocated
     * yet before the others. Only those can need space from the file system (an allocated block was
     * written before, and released blocks are zeroed, not punched), so when the file system is full
     * the write fails before it has changed any block that reads back: a block not allocated reads
     * as zeros whatever its file holds.
     */
    private static void writeNewBlocksFirst(ObjectHandle handle, ByteBuffer blocks, int firstBlock, int newBlocks)
            throws IOException {
        int blockCount = blocks.limit() / BLOCK_SIZE_BYTES;
        if (newBlocks == 0 || newBlocks == blockCount) {
            writeFully(handle.file, blocks, (long) firstBlock * BLOCK_SIZE_BYTES);
            return;
        }
        for (boolean allocated : new boolean[] {false, true}) {
            int index = 0;
            while (index < blockCount) {
                if (handle.isAllocated(firstBlock + index) != allocated) {
                    index++;
                    continue;
                }
                int runEnd = index + 1;
                while (runEnd < blockCount && handle.isAllocated(firstBlock + runEnd) == allocated) {
                    runEnd++;
                }
                writeFully(handle.file, blocks.slice(index * BLOCK_SIZE_BYTES, (runEnd - index) * BLOCK_SIZE_BYTES),
                        (long) (firstBlock + index) * BLOCK_SIZE_BYTES);
                index = runEnd;
            }
        }
    }

    /** Loads the current content of a partially covered first and last block into {@code blocks}. */
    private ObjectResult<Done> loadPartialEdges(ObjectHandle handle, int offsetInObject, int length,
            ByteBuffer blocks) throws IOException {
        int firstBlock = offsetInObject / BLOCK_SIZE_BYTES;
        int lastBlock = (offsetInObject + length - 1) / BLOCK_SIZE_BYTES;
        boolean headPartial = offsetInObject % BLOCK_SIZE_BYTES != 0;
        boolean tailPartial = (offsetInObject + length) % BLOCK_SIZE_BYTES != 0;
        if (headPartial || (tailPartial && lastBlock == firstBlock)) {
            ObjectResult<Done> head = loadBlockIfAllocated(handle, firstBlock, blocks, 0);
            if (head instanceof ObjectResult.Failed<Done>) {
                return head;
            }
        }
        if (tailPartial && lastBlock != firstBlock) {
            return loadBlockIfAllocated(handle, lastBlock, blocks, (lastBlock - firstBlock) * BLOCK_SIZE_BYTES);
        }
        return ObjectResult.done();
    }

    private ObjectResult<Done> loadBlockIfAllocated(ObjectHandle handle, int block, ByteBuffer blocks, int index)
            throws IOException {
        if (!handle.isAllocated(block)) {
            return ObjectResult.done();
        }
        return loadVerified(handle, block, blocks.slice(index, BLOCK_SIZE_BYTES));
    }

    /** Fills {@code blocks} (a whole number of blocks) from {@code firstBlock} on and verifies them. */
    private ObjectResult<Done> loadVerified(ObjectHandle handle, int firstBlock, ByteBuffer blocks)
            throws IOException {
        readFully(handle, blocks, (long) firstBlock * BLOCK_SIZE_BYTES);
        for (int index = 0; index < blocks.limit(); index += BLOCK_SIZE_BYTES) {
            int block = firstBlock + index / BLOCK_SIZE_BYTES;
            int actual = crc32c(blocks, index);
            if (actual != handle.blockChecksums[block]) {
                ObjectError.Corrupt corrupt = new ObjectError.Corrupt(handle.objectId, block);
                corruptions.put(corrupt, Boolean.TRUE);
                log.warn("checksum mismatch in object {} block {}: stored {}, computed {}; this copy is corrupt",
                        handle.objectId, block, Integer.toHexString(handle.blockChecksums[block]),
                        Integer.toHexString(actual));
                return ObjectResult.failed(corrupt);
            }
        }
        return ObjectResult.done();
    }

    /**
     * Zeroes a range without allocating: whole blocks are released, the covered part of a partial
     * block is overwritten with zeros only if the block holds data (a hole already reads as zeros).
     */
    private ObjectResult<Done> zeroLocked(ObjectHandle handle, int offsetInObject, int length) throws IOException {
        int end = offsetInObject + length;
        int firstWholeBlock = Math.ceilDiv(offsetInObject, BLOCK_SIZE_BYTES);
        int endWholeBlock = end / BLOCK_SIZE_BYTES;
        for (int block = offsetInObject / BLOCK_SIZE_BYTES; block * BLOCK_SIZE_BYTES < end; block++) {
            boolean whole = block >= firstWholeBlock && block < endWholeBlock;
            if (!whole && handle.isAllocated(block)) {
                int from = Math.max(offsetInObject, block * BLOCK_SIZE_BYTES);
                int to = Math.min(end, (block + 1) * BLOCK_SIZE_BYTES);
                ObjectResult<Done> zeroed = writeLocked(handle, from, ByteBuffer.wrap(ZERO_OBJECT, 0, to - from));
                if (zeroed instanceof ObjectResult.Failed<Done>) {
                    return zeroed;
                }
            }
        }
        if (firstWholeBlock < endWholeBlock) {
            releaseBlocks(handle, firstWholeBlock, endWholeBlock);
        }
        return ObjectResult.done();
    }

    /**
     * Releases blocks [firstBlock, endBlock): the bitmap is cleared first and the data zeroed after,
     * so a crash in between leaves free blocks with stale bytes (never read) rather than data that
     * fails its checksum.
     */
    private void releaseBlocks(ObjectHandle handle, int firstBlock, int endBlock) throws IOException {
        List<int[]> releasedRuns = new ArrayList<>();
        int released = 0;
        for (int block = firstBlock; block < endBlock; block++) {
            if (handle.isAllocated(block)) {
                handle.setAllocated(block, false);
                handle.blockChecksums[block] = 0;
                released++;
                int lastRun = releasedRuns.size() - 1;
                if (lastRun >= 0 && releasedRuns.get(lastRun)[1] == block) {
                    releasedRuns.get(lastRun)[1] = block + 1;
                } else {
                    releasedRuns.add(new int[] {block, block + 1});
                }
            }
        }
        if (released == 0) {
            return;
        }
        usedBytes.addAndGet(-(long) released * BLOCK_SIZE_BYTES);
        unsynced.mark(handle.objectId);
        handle.markTrailerStale(firstBlock, endBlock, true);
        writeStaleTrailer(handle);
        for (int[] run : releasedRuns) {
            writeFully(handle.file, ByteBuffer.wrap(ZERO_OBJECT, 0, (run[1] - run[0]) * BLOCK_SIZE_BYTES),
                    (long) run[0] * BLOCK_SIZE_BYTES);
        }
    }

    private void deleteIfEmpty(ObjectHandle handle) throws IOException {
        if (!handle.deleted && handle.allocatedBlocks() == 0) {
            deleteLocked(handle);
        }
    }

    /**
     * Removes the object's file and frees its space; holders waiting for the handle see
     * {@code deleted} and retry. The file goes and the handle leaves the table in one step under the
     * table's monitor, which {@link #acquire} holds while it looks for the file: otherwise a reader
     * arriving in between would open the file being deleted, and the next write would go to a file
     * no directory names.
     */
    private void deleteLocked(ObjectHandle handle) throws IOException {
        synchronized (openObjects) {
            Files.deleteIfExists(dataPath(handle.objectId));
            handle.deleted = true;
            openObjects.remove(handle.objectId, handle);
            openIndex.remove(handle.objectId, handle);
            heldObjects.remove(handle.objectId);
        }
        directoryChanges.add(handle.objectId);
        unsynced.mark(handle.objectId);
        usedBytes.addAndGet(-(long) handle.allocatedBlocks() * BLOCK_SIZE_BYTES);
        try {
            handle.closeFile();
        } catch (IOException e) { // the object is gone all the same
            log.warn("closing deleted object {}: {}", handle.objectId, e.toString());
        }
    }

    /**
     * Writes the part of the trailer that changed in memory since it was last written: the bitmap
     * when it changed, and the span of changed checksums. The caller holds the object's lock, shared
     * or exclusive; the flags are cleared only once written, so that a sync that finds nothing
     * stale never forces a file whose trailer another thread is still writing.
     */
    private static void writeStaleTrailer(ObjectHandle handle) throws IOException {
        synchronized (handle) { // syncs and the write-back may hold the shared lock at once
            if (!handle.trailerStale()) {
                return;
            }
            if (handle.bitmapStale) {
                writeFully(handle.file, ObjectTrailer.encodeHead(handle.allocationWords), ObjectTrailer.OFFSET);
            }
            if (handle.staleChecksumsFrom < handle.staleChecksumsTo) {
                writeFully(handle.file, ObjectTrailer.encodeChecksums(handle.blockChecksums, handle.staleChecksumsFrom,
                        handle.staleChecksumsTo), ObjectTrailer.checksumsPosition(handle.staleChecksumsFrom));
            }
            handle.markTrailerWritten();
        }
    }

    // ---- the table of open objects

    @FunctionalInterface
    private interface LockedOperation<T> {
        ObjectResult<T> apply(ObjectHandle handle) throws IOException;
    }

    /**
     * Runs {@code operation} on the open object under its shared or exclusive lock; starts over if
     * the object was deleted while this call waited for the lock.
     */
    private <T> ObjectResult<T> withObject(ObjectId objectId, boolean create, boolean exclusive,
            LockedOperation<T> operation) {
        int ticket = operations.begin();
        try {
            return withObjectCounted(objectId, create, exclusive, operation);
        } finally {
            operations.end(ticket);
        }
    }

    private <T> ObjectResult<T> withObjectCounted(ObjectId objectId, boolean create, boolean exclusive,
            LockedOperation<T> operation) {
        while (true) {
            ObjectResult<ObjectHandle> acquired = acquire(objectId, create);
            if (!(acquired instanceof ObjectResult.Ok<ObjectHandle>(ObjectHandle handle))) {
                return ObjectResult.failed(((ObjectResult.Failed<ObjectHandle>) acquired).error());
            }
            Lock lock = exclusive ? handle.lock.writeLock() : handle.lock.readLock();
            lock.lock();
            try {
                if (!handle.deleted) {
                    return operation.apply(handle);
                }
            } catch (IOException e) {
                return ioFailure(objectId, e.toString());
            } finally {
                lock.unlock();
                handle.release();
            }
        }
    }

    /**
     * The open object, counted as held (give it back with {@link ObjectHandle#release}): found in the index
     * without the table's monitor when it is open, otherwise opened or created under it.
     */
    private ObjectResult<ObjectHandle> acquire(ObjectId objectId, boolean create) {
        ObjectHandle open = openIndex.get(objectId);
        if (open != null && open.tryUse()) {
            if (!closed) {
                if (!open.recentlyUsed) {
                    open.recentlyUsed = true; // written only when it changes: the handle's line stays shared
                }
                return ObjectResult.ok(open);
            }
            open.release(); // the store closed meanwhile: answered below
        }
        synchronized (openObjects) {
            if (closed) {
                return ioFailure(objectId, "the object store " + directory + " is closed");
            }
            ObjectHandle handle = openObjects.get(objectId);
            if (handle != null) {
                handle.recentlyUsed = true;
            } else {
                try {
                    if (Files.exists(dataPath(objectId))) {
                        handle = openExisting(objectId);
                    } else if (heldObjects.contains(objectId)) {
                        return ObjectResult.failed(fileMissing(objectId));
                    } else if (create) {
                        handle = createObject(objectId);
                    } else {
                        return ObjectResult.failed(new ObjectError.NotFound(objectId));
                    }
                } catch (IOException e) {
                    return create && isNoSpace(e) ? fileSystemFull(objectId, ObjectTrailer.BYTES, e)
                            : ioFailure(objectId, "cannot open: " + e.getMessage());
                } catch (ObjectTrailer.DamagedException e) {
                    return ObjectResult.failed(trailerDamaged(objectId, e.getMessage()));
                }
                openObjects.put(objectId, handle);
                openIndex.put(objectId, handle);
            }
            if (!handle.tryUse()) { // under the monitor a handle in the table is never closed
                throw new IllegalStateException("object " + objectId + " is in the table of open objects but closed");
            }
            closeIdleObjects(); // once this one is held: when every other is held too, it must not be the one closed
            return ObjectResult.ok(handle);
        }
    }

    /** A held object whose file is gone: a damaged copy, logged the first time it is met. */
    private ObjectError.Corrupt fileMissing(ObjectId objectId) {
        ObjectError.Corrupt missing = new ObjectError.Corrupt(objectId, ObjectError.Corrupt.FILE_MISSING);
        if (corruptions.put(missing, Boolean.TRUE) == null) {
            log.warn("{} (expected at {}); this copy is damaged", missing.describe(), dataPath(objectId));
        }
        return missing;
    }

    /** A held object whose trailer cannot be read back: a damaged copy, logged the first time it is met. */
    private ObjectError.Corrupt trailerDamaged(ObjectId objectId, String detail) {
        ObjectError.Corrupt damaged = new ObjectError.Corrupt(objectId, ObjectError.Corrupt.TRAILER_DAMAGED);
        if (corruptions.put(damaged, Boolean.TRUE) == null) {
            log.warn("{} ({}); this copy is damaged", damaged.describe(), detail);
        }
        return damaged;
    }

    /**
     * Deletes a copy whose trailer is damaged: no handle can open it, so its file goes by its name.
     * Its blocks stay counted as used until the store is opened again, as a missing file's do: the
     * trailer held how many there were.
     */
    private ObjectResult<Done> deleteDamagedFile(ObjectId objectId) {
        synchronized (openObjects) {
            if (!openObjects.containsKey(objectId)) {
                try {
                    Files.deleteIfExists(dataPath(objectId));
                } catch (IOException e) {
                    return ioFailure(objectId, "cannot delete its damaged file: " + e);
                }
                heldObjects.remove(objectId);
                directoryChanges.add(objectId);
                unsynced.mark(objectId);
                return ObjectResult.done();
            }
        }
        // written anew meanwhile, so no longer damaged: deleted as usual (outside the table's monitor,
        // which is taken after an object's lock, never before)
        return delete(objectId);
    }

    /**
     * Forgets a held object whose file is missing, so that it can be deleted (or replaced: deleted,
     * then written anew). Its blocks stay counted as used until the store is opened again: with
     * the file went the only record of how many there were.
     */
    private boolean forgetMissingFile(ObjectId objectId) {
        synchronized (openObjects) {
            if (openObjects.containsKey(objectId) || !heldObjects.contains(objectId)
                    || Files.exists(dataPath(objectId))) {
                return false;
            }
            heldObjects.remove(objectId);
            return true;
        }
    }

    /**
     * Closes idle objects beyond the limit, the least recently used first as the clock algorithm
     * approximates it: a first round moves each object used since it was last looked at to the end
     * of the table (its second chance) and closes idle ones that were not; a second round, if still
     * needed, closes idle ones in the table's order. Each is closed after writing its changed trailer
     * (no holder can be changing it: it has none, and none can come). Unsynced changes stay in the
     * page cache: a later sync opens the files again and forces them (fsync covers the file, not the
     * descriptor). An object whose trailer cannot be written stays open, so its checksums stay known.
     * Caller holds the table's monitor.
     */
    private void closeIdleObjects() {
        int excess = openObjects.size() - MAX_OPEN_OBJECTS;
        for (int round = 0; round < 2 && excess > 0; round++) {
            boolean secondChances = round == 0;
            List<ObjectHandle> spared = new ArrayList<>();
            Iterator<ObjectHandle> inOrder = openObjects.values().iterator();
            while (excess > 0 && inOrder.hasNext()) {
                ObjectHandle handle = inOrder.next();
                if (secondChances && handle.recentlyUsed) {
                    handle.recentlyUsed = false;
                    inOrder.remove();
                    spared.add(handle);
                } else if (closeIfIdle(handle)) {
                    inOrder.remove();
                    openIndex.remove(handle.objectId, handle);
                    excess--;
                }
            }
            spared.forEach(handle -> openObjects.put(handle.objectId, handle)); // to the end, in their order
        }
    }

    /** Closes the handle's file if it has no holder (and then none can come); whether it did. */
    private boolean closeIfIdle(ObjectHandle handle) {
        if (!handle.closeIfIdle()) {
            return false;
        }
        try {
            writeStaleTrailer(handle);
        } catch (IOException e) {
            log.warn("object {} stays open: cannot write its checksums: {}", handle.objectId, e.toString());
            handle.reopenAfterFailedClose();
            return false;
        }
        try {
            handle.closeFile();
        } catch (IOException e) {
            log.warn("closing idle object {}: {}", handle.objectId, e.toString());
        }
        return true;
    }

    private ObjectHandle openExisting(ObjectId objectId) throws IOException, ObjectTrailer.DamagedException {
        FileChannel file = UninterruptibleChannels.of(
            FileChannel.open(dataPath(objectId), StandardOpenOption.READ, StandardOpenOption.WRITE));
        ObjectHandle handle = new ObjectHandle(objectId, file);
        try {
            if (file.size() != ObjectTrailer.FILE_BYTES) {
                throw new ObjectTrailer.DamagedException("data file " + dataPath(objectId) + " has " + file.size()
                        + " bytes, expected " + ObjectTrailer.FILE_BYTES);
            }
            ByteBuffer trailer = ByteBuffer.allocate(ObjectTrailer.BYTES);
            readFully(file, trailer, ObjectTrailer.OFFSET);
            ObjectTrailer.decode(trailer, handle.allocationWords, handle.blockChecksums);
        } catch (IOException | ObjectTrailer.DamagedException | RuntimeException e) {
            handle.closeFile();
            throw e;
        }
        return handle;
    }

    /**
     * Creates the file and writes its empty trailer, which also gives the file its length (the data
     * before it stays a hole). A crash before the first sync can leave a shorter file, which the
     * next open removes ({@link StoreScan}): nothing in it was promised durable.
     */
    private ObjectHandle createObject(ObjectId objectId) throws IOException {
        FileChannel file = UninterruptibleChannels.of(FileChannel.open(dataPath(objectId), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE));
        try {
            writeFully(file, ObjectTrailer.empty(), ObjectTrailer.OFFSET);
        } catch (IOException e) {
            file.close();
            Files.deleteIfExists(dataPath(objectId));
            throw e;
        }
        directoryChanges.add(objectId);
        unsynced.mark(objectId);
        heldObjects.add(objectId);
        return new ObjectHandle(objectId, file);
    }

    // ---- helpers

    private ObjectResult<Done> reserve(long bytes) {
        while (true) {
            long used = usedBytes.get();
            if (bytes == 0) {
                return ObjectResult.done();
            }
            if (used + bytes > capacityBytes) {
                return ObjectResult.failed(new ObjectError.NoSpace(bytes, Math.max(0, capacityBytes - used)));
            }
            if (usedBytes.compareAndSet(used, used + bytes)) {
                return ObjectResult.done();
            }
        }
    }

    /** Whether the file system refused a write for want of space (ENOSPC). */
    static boolean isNoSpace(IOException e) {
        // the JDK reports errno only through strerror's text, which is this in the C and English locales
        return e.getMessage() != null && e.getMessage().contains("No space left on device");
    }

    /**
     * A write the file system had no room for, although the store's capacity had: the client gets
     * ENOSPC, as when the store itself is full, and the operator a reason to lower the capacity.
     */
    private <T> ObjectResult<T> fileSystemFull(ObjectId objectId, long requestedBytes, IOException e) {
        log.warn("object {}: the file system holding object store {} is full ({}) while the store counts {} of its {} "
                + "bytes free; free space on that file system or give the store a smaller capacity "
                + "(the daemon's HERD_STORAGE_CAPACITY)", objectId, directory, e.getMessage(), freeBytes(), capacityBytes);
        return ObjectResult.failed(new ObjectError.NoSpace(requestedBytes, 0));
    }

    private static <T> ObjectResult<T> ioFailure(ObjectId objectId, String detail) {
        log.warn("I/O error on object {}: {}", objectId, detail);
        return ObjectResult.failed(new ObjectError.IoFailure(objectId, detail));
    }

    /** Trims, zeroing and syncs of an object that does not exist have nothing to do. */
    private static ObjectResult<Done> absentIsDone(ObjectResult<Done> result) {
        if (result instanceof ObjectResult.Failed<Done>(ObjectError.NotFound absent)) {
            return ObjectResult.done();
        }
        return result;
    }

    private static void checkRange(int offsetInObject, int length) {
        if (offsetInObject < 0 || length < 0 || offsetInObject > ObjectId.OBJECT_SIZE_BYTES - length) {
            throw new IllegalArgumentException("range " + offsetInObject + "+" + length + " is not inside one "
                    + ObjectId.OBJECT_SIZE_BYTES + "-byte object; split requests at object boundaries");
        }
    }

    private static int crc32c(ByteBuffer blocks, int index) {
        CRC32C crc = new CRC32C();
        crc.update(blocks.slice(index, BLOCK_SIZE_BYTES));
        return (int) crc.getValue();
    }

    private void readFully(ObjectHandle handle, ByteBuffer buffer, long position) throws IOException {
        readFully(handle.file, buffer, position);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        buffer.clear();
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new IOException("file ends at " + (position + buffer.position()) + ", expected "
                        + (position + buffer.limit()) + " bytes");
            }
        }
        buffer.flip();
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        ByteBuffer remaining = buffer.duplicate();
        remaining.position(0);
        while (remaining.hasRemaining()) {
            channel.write(remaining, position + remaining.position());
        }
    }

    static void forceDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    static String subdirectoryName(int subdirectory) {
        return String.format("%02x", subdirectory);
    }

    static int subdirectoryOf(ObjectId objectId) {
        // Fibonacci hashing: the volume's consecutive indexes land in different directories.
        return (int) ((objectId.value() * 0x9E3779B97F4A7C15L) >>> (Long.SIZE - 6));
    }

    private Path objectDirectory(ObjectId objectId) {
        return objectsDirectory.resolve(subdirectoryName(subdirectoryOf(objectId)));
    }

    Path dataPath(ObjectId objectId) {
        return objectDirectory(objectId).resolve(objectId.hex());
    }
}
