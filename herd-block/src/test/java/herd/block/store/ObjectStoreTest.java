package herd.block.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.Done;
import herd.block.testing.MemoryTempDirFactory;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObjectStoreTest {
    private static final int BLOCK = AllocationMap.BLOCK_SIZE_BYTES;
    private static final long MIB = 1024 * 1024;
    private static final ObjectId A = ObjectId.of(3, 0);
    private static final ObjectId B = ObjectId.of(3, 1);

    @TempDir(factory = MemoryTempDirFactory.class)
    Path directory;

    /** A copy of the store's files as a crash would leave them: what the page cache holds, no more. */
    @TempDir(factory = MemoryTempDirFactory.class)
    Path afterCrash;

    private ObjectStore store;

    @BeforeEach
    void open() throws IOException {
        store = ObjectStore.open(directory, 64 * MIB);
    }

    @AfterEach
    void close() throws IOException {
        store.close();
    }

    @Test
    void absentObjectIsNotFound() {
        assertThat(store.read(A, 0, ByteBuffer.allocate(10))).isEqualTo(failed(new ObjectError.NotFound(A)));
        assertThat(store.allocation(A)).isEqualTo(failed(new ObjectError.NotFound(A)));
    }

    @Test
    void unalignedWriteReadsBackAndNeverWrittenBytesAreZero() {
        byte[] data = randomBytes(10_000, 1);
        assertThat(store.write(A, 5_000, ByteBuffer.wrap(data))).isEqualTo(ObjectResult.done());

        byte[] read = read(A, 0, 20_000);

        assertThat(Arrays.copyOfRange(read, 5_000, 15_000)).isEqualTo(data);
        assertThat(Arrays.copyOfRange(read, 0, 5_000)).containsOnly(0);
        assertThat(Arrays.copyOfRange(read, 15_000, 20_000)).containsOnly(0);
        assertThat(allocated(A)).containsExactly(1, 2, 3);
        assertThat(store.usedBytes()).isEqualTo(3 * BLOCK);
    }

    @Test
    void aWriteByAnInterruptedThreadLeavesTheObjectOpenForEveryOther() {
        assertThat(UninterruptibleChannels.available()).as("the tests' JVM exports sun.nio.ch, as herd's jar does").isTrue();
        byte[] first = randomBytes(BLOCK, 11);
        store.write(A, 0, ByteBuffer.wrap(first));
        byte[] second = randomBytes(BLOCK, 12);

        Thread.currentThread().interrupt(); // just before its write: an interruptible channel would close itself
        ObjectResult<Done> interrupted;
        try {
            interrupted = store.write(A, BLOCK, ByteBuffer.wrap(second));
        } finally {
            assertThat(Thread.interrupted()).as("the interrupt is left for its thread to see").isTrue();
        }

        assertThat(interrupted).isEqualTo(ObjectResult.done());
        assertThat(read(A, 0, BLOCK)).isEqualTo(first);
        assertThat(read(A, BLOCK, BLOCK)).isEqualTo(second);
        assertThat(store.write(A, 2 * BLOCK, ByteBuffer.wrap(first))).isEqualTo(ObjectResult.done());
    }

    @Test
    void overwritingAllocatedBlocksTakesNoNewSpace() {
        store.write(A, 0, ByteBuffer.wrap(randomBytes(2 * BLOCK, 2)));
        store.write(A, 100, ByteBuffer.wrap(randomBytes(BLOCK, 3)));

        assertThat(store.usedBytes()).isEqualTo(2 * BLOCK);
    }

    @Test
    void aFlippedByteIsReportedAsTheCorruptBlock() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(randomBytes(4 * BLOCK, 4)));
        flipByte(store.dataPath(A), 2 * BLOCK + 5);

        assertThat(store.read(A, 2 * BLOCK, ByteBuffer.allocate(10))).isEqualTo(failed(new ObjectError.Corrupt(A, 2)));
        assertThat(store.read(A, 0, ByteBuffer.allocate(2 * BLOCK))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(store.write(A, 2 * BLOCK + 1, ByteBuffer.wrap(new byte[1])))
                .as("a partial write must not bless corrupt data with a new checksum")
                .isEqualTo(failed(new ObjectError.Corrupt(A, 2)));
        assertThat(store.corruptionsSeen()).containsExactly(new ObjectError.Corrupt(A, 2));

        store.write(A, 2 * BLOCK, ByteBuffer.wrap(new byte[BLOCK]));
        assertThat(store.read(A, 2 * BLOCK, ByteBuffer.allocate(BLOCK))).isInstanceOf(ObjectResult.Ok.class);
    }

    @Test
    void aWriteBeyondCapacityFailsAndChangesNothing() throws IOException {
        try (ObjectStore small = ObjectStore.open(directory.resolve("small"), 3 * BLOCK)) {
            small.write(A, 0, ByteBuffer.wrap(filled(2 * BLOCK, 1)));

            ObjectResult<Done> tooBig = small.write(A, BLOCK, ByteBuffer.wrap(filled(2 * BLOCK + 1, 2)));
            ObjectResult<Done> newObject = small.write(B, 0, ByteBuffer.wrap(filled(2 * BLOCK, 3)));

            assertThat(tooBig).isEqualTo(failed(new ObjectError.NoSpace(2 * BLOCK, BLOCK)));
            assertThat(newObject).isEqualTo(failed(new ObjectError.NoSpace(2 * BLOCK, BLOCK)));
            assertThat(readFrom(small, A, 0, 2 * BLOCK)).containsOnly(1);
            assertThat(small.usedBytes()).isEqualTo(2 * BLOCK);
            assertThat(small.list()).containsExactly(A);
            assertThat(small.write(A, 0, ByteBuffer.wrap(filled(2 * BLOCK, 4)))).as("overwrite needs no space")
                    .isEqualTo(ObjectResult.done());
        }
    }

    @Test
    void trimReleasesWholeBlocksOnly() {
        store.write(A, 0, ByteBuffer.wrap(filled(4 * BLOCK, 9)));

        store.trim(A, 100, 3 * BLOCK);

        assertThat(allocated(A)).containsExactly(0, 3);
        assertThat(read(A, 0, 100)).containsOnly(9);
        assertThat(read(A, BLOCK, 2 * BLOCK)).containsOnly(0);
        assertThat(store.usedBytes()).isEqualTo(2 * BLOCK);
    }

    @Test
    void writeZeroesZeroesPartialBlocksAndReleasesWholeOnes() {
        store.write(A, 0, ByteBuffer.wrap(filled(4 * BLOCK, 9)));

        store.writeZeroes(A, 100, 3 * BLOCK, false);

        byte[] read = read(A, 0, 4 * BLOCK);
        assertThat(Arrays.copyOfRange(read, 0, 100)).containsOnly(9);
        assertThat(Arrays.copyOfRange(read, 100, 3 * BLOCK + 100)).containsOnly(0);
        assertThat(Arrays.copyOfRange(read, 3 * BLOCK + 100, 4 * BLOCK)).containsOnly(9);
        assertThat(allocated(A)).containsExactly(0, 3);
    }

    @Test
    void writeZeroesWithAllocateKeepsBlocksAllocated() {
        store.writeZeroes(A, 0, 2 * BLOCK, true);

        assertThat(allocated(A)).containsExactly(0, 1);
        assertThat(read(A, 0, 2 * BLOCK)).containsOnly(0);
    }

    @Test
    void releasingTheLastBlockDeletesTheObject() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.sync(A);

        store.trim(A, 0, ObjectId.OBJECT_SIZE_BYTES);

        assertThat(store.list()).isEmpty();
        assertThat(Files.exists(store.dataPath(A))).isFalse();
        assertThat(store.read(A, 0, ByteBuffer.allocate(1))).isEqualTo(failed(new ObjectError.NotFound(A)));
        assertThat(store.usedBytes()).isZero();
        assertThat(store.sync(A)).isEqualTo(ObjectResult.done());
    }

    @Test
    void listAndDelete() throws IOException {
        store.write(B, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.write(A, 0, ByteBuffer.wrap(filled(2 * BLOCK, 1)));

        assertThat(store.list()).containsExactly(A, B);
        assertThat(store.delete(A)).isEqualTo(ObjectResult.done());
        assertThat(store.list()).containsExactly(B);
        assertThat(store.usedBytes()).isEqualTo(BLOCK);
        assertThat(store.delete(A)).isEqualTo(ObjectResult.done());
    }

    /**
     * A file removed behind the store's back (by hand, or lost by the file system) once the store has
     * closed it is a damaged copy, to be replaced, not an absent object: that would read as zeros and
     * a write would start an empty object in its place. Deleting it (as a replacement does first) is
     * done, and the object can then be written anew.
     */
    @Test
    void aFileLostBehindTheStoresBackIsADamagedCopyUntilDeleted() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 7)));
        store.sync(A);
        for (int index = 0; index < ObjectStore.MAX_OPEN_OBJECTS; index++) { // closes A, the least recently used
            store.write(ObjectId.of(4, index), 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        }
        Files.delete(store.dataPath(A));
        ObjectError.Corrupt missing = new ObjectError.Corrupt(A, ObjectError.Corrupt.FILE_MISSING);

        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK))).isEqualTo(failed(missing));
        assertThat(store.allocation(A)).isEqualTo(failed(missing));
        assertThat(store.write(A, BLOCK, ByteBuffer.wrap(filled(BLOCK, 8)))).isEqualTo(failed(missing));
        assertThat(Files.exists(store.dataPath(A))).as("a write starts no new file").isFalse();
        assertThat(store.list()).contains(A);
        assertThat(store.corruptionsSeen()).contains(missing);
        assertThat(missing.describe()).contains("its file is missing from the store");

        assertThat(store.delete(A)).isEqualTo(ObjectResult.done());
        assertThat(store.list()).doesNotContain(A);
        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK))).isEqualTo(failed(new ObjectError.NotFound(A)));
        assertThat(store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 9)))).isEqualTo(ObjectResult.done());
        assertThat(read(A, 0, BLOCK)).isEqualTo(filled(BLOCK, 9));
    }

    /**
     * A trailer that cannot be read back (a bad header; a file of the wrong length) leaves no block of
     * the copy to trust: the whole copy is damaged, like a lost file, to be replaced; deleting it (as
     * a replacement does first) is done, and the object can then be written anew.
     */
    @Test
    void aCopyWhoseTrailerIsDamagedIsADamagedCopyUntilDeleted() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 7)));
        store.close();
        try (RandomAccessFile file = new RandomAccessFile(store.dataPath(A).toFile(), "rw")) {
            file.seek(ObjectTrailer.OFFSET);
            file.writeInt(0xdeadbeef);
        }
        store = ObjectStore.open(directory, 64 * MIB);
        ObjectError.Corrupt damaged = new ObjectError.Corrupt(A, ObjectError.Corrupt.TRAILER_DAMAGED);

        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK))).isEqualTo(failed(damaged));
        assertThat(store.allocation(A)).isEqualTo(failed(damaged));
        assertThat(store.write(A, BLOCK, ByteBuffer.wrap(filled(BLOCK, 8)))).isEqualTo(failed(damaged));
        assertThat(store.corruptionsSeen()).contains(damaged);
        assertThat(damaged.wholeCopy()).isTrue();
        assertThat(damaged.describe()).contains("its trailer (the checksums and allocation map of its blocks) is damaged");

        assertThat(store.delete(A)).isEqualTo(ObjectResult.done());
        assertThat(store.list()).doesNotContain(A);
        assertThat(Files.exists(store.dataPath(A))).isFalse();
        assertThat(store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 9)))).isEqualTo(ObjectResult.done());
        assertThat(read(A, 0, BLOCK)).isEqualTo(filled(BLOCK, 9));
    }

    /**
     * The allocation bitmap has a checksum of its own: a bit that damage clears would otherwise make
     * its block read as zeros, since a block's checksum counts only where its bit is set.
     */
    @Test
    void aBitClearedInTheAllocationBitmapMakesADamagedCopyNotZeros() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 7)));
        store.close();
        overwriteBitmapWord(0, 0L); // block 0 was the only one allocated
        store = ObjectStore.open(directory, 64 * MIB);
        ObjectError.Corrupt damaged = new ObjectError.Corrupt(A, ObjectError.Corrupt.TRAILER_DAMAGED);

        assertThat(store.usedBytes()).as("counted whole until it is replaced").isEqualTo(ObjectId.OBJECT_SIZE_BYTES);
        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK))).isEqualTo(failed(damaged));
        assertThat(store.allocation(A)).isEqualTo(failed(damaged));
    }

    /**
     * A trailer of the earlier layout, without the bitmap's checksum, reads as before; once its
     * allocation changes it is written in the new layout, and from then on a damaged bitmap is seen.
     */
    @Test
    void aTrailerOfTheEarlierLayoutReadsAndTakesTheBitmapChecksumWhenItsAllocationChanges() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 7)));
        store.close();
        writeHead(ObjectTrailer.LEGACY_MAGIC, ObjectTrailer.LEGACY_VERSION);
        store = ObjectStore.open(directory, 64 * MIB);
        assertThat(read(A, 0, BLOCK)).isEqualTo(filled(BLOCK, 7));
        assertThat(store.usedBytes()).isEqualTo(BLOCK);

        store.write(A, BLOCK, ByteBuffer.wrap(filled(BLOCK, 8)));
        assertThat(store.sync(A)).isEqualTo(ObjectResult.done());
        store.close();
        try (RandomAccessFile file = new RandomAccessFile(store.dataPath(A).toFile(), "r")) {
            file.seek(ObjectTrailer.OFFSET);
            assertThat(file.readInt()).isEqualTo(ObjectTrailer.MAGIC);
        }
        store = ObjectStore.open(directory, 64 * MIB);
        assertThat(read(A, 0, BLOCK)).isEqualTo(filled(BLOCK, 7));
        assertThat(read(A, BLOCK, BLOCK)).isEqualTo(filled(BLOCK, 8));
        store.close();
        overwriteBitmapWord(0, 1L);
        store = ObjectStore.open(directory, 64 * MIB);
        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK)))
            .isEqualTo(failed(new ObjectError.Corrupt(A, ObjectError.Corrupt.TRAILER_DAMAGED)));
    }

    private void overwriteBitmapWord(int word, long value) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(store.dataPath(A).toFile(), "rw")) {
            file.seek(ObjectTrailer.OFFSET + ObjectTrailer.BITMAP_OFFSET + (long) word * Long.BYTES);
            assertThat(file.readLong()).as("the word changes").isNotEqualTo(value);
            file.seek(ObjectTrailer.OFFSET + ObjectTrailer.BITMAP_OFFSET + (long) word * Long.BYTES);
            file.writeLong(value);
        }
    }

    private void writeHead(int magic, int second) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(store.dataPath(A).toFile(), "rw")) {
            file.seek(ObjectTrailer.OFFSET);
            file.writeInt(magic);
            file.writeInt(second);
        }
    }

    /**
     * A file removed while the store has it open serves from the open file, whole, until the store
     * closes it; then it is a damaged copy. Changes made before it was closed and not synced went with
     * it, so a sync says so too.
     */
    @Test
    void aFileRemovedWhileOpenServesUntilClosedThenIsDamaged() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 7)));
        store.sync(A);
        store.write(A, BLOCK, ByteBuffer.wrap(filled(BLOCK, 8)));
        Files.delete(store.dataPath(A));
        assertThat(read(A, BLOCK, BLOCK)).isEqualTo(filled(BLOCK, 8));

        for (int index = 0; index < ObjectStore.MAX_OPEN_OBJECTS; index++) { // closes A, the least recently used
            store.write(ObjectId.of(4, index), 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        }
        ObjectError.Corrupt missing = new ObjectError.Corrupt(A, ObjectError.Corrupt.FILE_MISSING);
        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK))).isEqualTo(failed(missing));
        assertThat(store.sync(A)).isEqualTo(failed(missing));
        assertThat(store.sync(A)).as("still not durable").isEqualTo(failed(missing));
    }

    /** The trailer write-back is not a use: an object changed and not synced is still closed first when it is the least recently used. */
    @Test
    void theTrailerWriteBackLeavesTheOrderInWhichObjectsClose() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 7)));
        store.writeBackTrailers();
        for (int index = 0; index < ObjectStore.MAX_OPEN_OBJECTS; index++) {
            store.write(ObjectId.of(4, index), 0, ByteBuffer.wrap(filled(BLOCK, 1)));
            store.writeBackTrailers();
        }
        Files.delete(store.dataPath(A)); // closed, so its data is gone with the file
        assertThat(store.read(A, 0, ByteBuffer.allocate(BLOCK)))
            .isEqualTo(failed(new ObjectError.Corrupt(A, ObjectError.Corrupt.FILE_MISSING)));
    }

    /**
     * A reader that looks at an object while it is deleted must not open the file being deleted: a
     * write after the delete would then go to a file no directory names, seen only until the store
     * closes (recovery's replace-a-copy is a delete and writes, while other nodes ask for the copy).
     */
    @Test
    void anObjectRecreatedWhileReadersLookAtItIsStoredInItsFile() throws Exception {
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                store.allocation(A);
            }
        });
        try {
            for (int round = 0; round < 5_000; round++) {
                store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, round)));
                assertThat(store.delete(A)).isEqualTo(ObjectResult.done());
                store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, round)));
                assertThat(Files.exists(store.dataPath(A))).as("the object's file after round %d", round).isTrue();
                assertThat(store.list()).as("objects held after round %d", round).containsExactly(A);
                assertThat(store.delete(A)).isEqualTo(ObjectResult.done());
            }
        } finally {
            reader.interrupt();
            reader.join();
        }
        assertThat(store.usedBytes()).isZero();
    }

    @Test
    void dataChecksumsAndUsedSpaceSurviveReopening() throws IOException {
        byte[] data = randomBytes(3 * BLOCK + 7, 5);
        store.write(A, 11, ByteBuffer.wrap(data));
        store.flush(List.of(A));
        store.close();

        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(store.usedBytes()).isEqualTo(4 * BLOCK);
        assertThat(Arrays.copyOfRange(read(A, 0, 4 * BLOCK), 11, 11 + data.length)).isEqualTo(data);
    }

    @Test
    void oneFileHoldsTheDataAndThenTheChecksums() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(randomBytes(4 * BLOCK, 4)));

        assertThat(Files.size(store.dataPath(A))).isEqualTo(ObjectTrailer.FILE_BYTES);
        try (var objectFiles = Files.list(store.dataPath(A).getParent())) {
            assertThat(objectFiles).containsExactly(store.dataPath(A));
        }
        store.close();
        flipByte(store.dataPath(A), ObjectTrailer.checksumsPosition(2) + 3);
        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(store.read(A, 2 * BLOCK, ByteBuffer.allocate(10))).isEqualTo(failed(new ObjectError.Corrupt(A, 2)));
        assertThat(store.read(A, 0, ByteBuffer.allocate(2 * BLOCK))).isInstanceOf(ObjectResult.Ok.class);
    }

    @Test
    void openingRemovesHalfCreatedObjects() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.write(B, 0, ByteBuffer.wrap(filled(BLOCK, 2)));
        store.close();
        // As if a crash came after the file was created and before its trailer reached the disk.
        try (RandomAccessFile data = new RandomAccessFile(store.dataPath(A).toFile(), "rw")) {
            data.setLength(ObjectTrailer.OFFSET);
        }

        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(store.list()).containsExactly(B);
        assertThat(store.usedBytes()).isEqualTo(BLOCK);
    }

    @Test
    void checksumFilesOfEarlierStoresMoveIntoTheirDataFiles() throws IOException {
        byte[] data = randomBytes(3 * BLOCK, 6);
        store.write(A, BLOCK, ByteBuffer.wrap(data));
        store.write(B, 0, ByteBuffer.wrap(filled(BLOCK, 2)));
        store.close();
        Path legacyChecksums = toLegacyLayout(store.dataPath(A));

        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(legacyChecksums).doesNotExist();
        assertThat(Files.size(store.dataPath(A))).isEqualTo(ObjectTrailer.FILE_BYTES);
        assertThat(store.usedBytes()).isEqualTo(4 * BLOCK);
        assertThat(Arrays.copyOfRange(read(A, 0, 4 * BLOCK), BLOCK, 4 * BLOCK)).isEqualTo(data);
        assertThat(allocated(A)).containsExactly(1, 2, 3);
        assertThat(read(B, 0, BLOCK)).containsOnly(2);
    }

    @Test
    void aChecksumFileLeftByACrashDuringItsMoveIsMovedAgain() throws IOException {
        byte[] data = randomBytes(2 * BLOCK, 7);
        store.write(A, 0, ByteBuffer.wrap(data));
        store.close();
        Path legacyChecksums = toLegacyLayout(store.dataPath(A));
        // The crash came while the trailer was being written: the data file has a torn one.
        try (RandomAccessFile file = new RandomAccessFile(store.dataPath(A).toFile(), "rw")) {
            file.seek(ObjectTrailer.OFFSET);
            file.write(filled(100, 0xff));
        }

        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(legacyChecksums).doesNotExist();
        assertThat(read(A, 0, 2 * BLOCK)).isEqualTo(data);
        assertThat(store.usedBytes()).isEqualTo(2 * BLOCK);
    }

    @Test
    void openingRemovesTheLeftoversOfEarlierStoresInterruptedCreations() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.write(B, 0, ByteBuffer.wrap(filled(BLOCK, 2)));
        store.close();
        Path loneChecksums = toLegacyLayout(store.dataPath(A));
        Files.delete(store.dataPath(A));
        Path shortChecksums = toLegacyLayout(store.dataPath(B));
        try (RandomAccessFile file = new RandomAccessFile(shortChecksums.toFile(), "rw")) {
            file.setLength(100);
        }

        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(loneChecksums).doesNotExist();
        assertThat(shortChecksums).doesNotExist();
        assertThat(store.list()).isEmpty();
        assertThat(store.usedBytes()).isZero();
    }

    @Test
    void dataNewerThanItsChecksumAfterACrashReadsAsCorrupt() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(2 * BLOCK, 1)));
        store.sync(A);
        store.close();
        // As if the page cache wrote the data of a later, unsynced write back but not its checksum.
        try (RandomAccessFile data = new RandomAccessFile(store.dataPath(A).toFile(), "rw")) {
            data.seek(BLOCK);
            data.write(filled(BLOCK, 2));
        }

        store = ObjectStore.open(directory, 64 * MIB);

        assertThat(read(A, 0, BLOCK)).containsOnly(1);
        assertThat(store.read(A, BLOCK, ByteBuffer.allocate(BLOCK))).isEqualTo(failed(new ObjectError.Corrupt(A, 1)));
    }

    @Test
    void checksumsNotYetWrittenLeaveNewBlocksAsHolesAfterACrash() throws IOException {
        store.close();
        store = ObjectStore.open(directory, 64 * MIB, Duration.ofHours(1)); // no write-back during the test
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.sync(A);
        store.write(A, BLOCK, ByteBuffer.wrap(filled(BLOCK, 2)));

        try (ObjectStore recovered = openCopyAsAfterACrash(A)) {
            assertThat(readFrom(recovered, A, 0, BLOCK)).containsOnly(1);
            assertThat(readFrom(recovered, A, BLOCK, BLOCK)).containsOnly(0); // unsynced, never promised
            assertThat(recovered.usedBytes()).isEqualTo(BLOCK);
        }
    }

    @Test
    void aSyncWritesTheChecksumsItForces() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.sync(A);
        store.write(A, 0, ByteBuffer.wrap(filled(2 * BLOCK, 2)));
        store.sync(A);

        try (ObjectStore recovered = openCopyAsAfterACrash(A)) {
            assertThat(readFrom(recovered, A, 0, 2 * BLOCK)).containsOnly(2);
        }
    }

    @Test
    void theWriteBackWritesChangedChecksumsWithoutASync() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.sync(A);
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 2)));
        store.write(A, 5 * BLOCK, ByteBuffer.wrap(filled(BLOCK, 3)));

        store.writeBackTrailers();

        try (ObjectStore recovered = openCopyAsAfterACrash(A)) {
            assertThat(readFrom(recovered, A, 0, BLOCK)).containsOnly(2);
            assertThat(readFrom(recovered, A, 5 * BLOCK, BLOCK)).containsOnly(3);
        }
    }

    @Test
    void theWriteBackRunsByItself() throws Exception {
        store.close();
        store = ObjectStore.open(directory, 64 * MIB, Duration.ofMillis(50));
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.sync(A);
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 2)));

        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        boolean writtenBack = false;
        while (!writtenBack && System.nanoTime() < deadline) {
            Thread.sleep(20);
            try (ObjectStore recovered = openCopyAsAfterACrash(A)) {
                writtenBack = recovered.read(A, 0, ByteBuffer.allocate(BLOCK)).equals(ObjectResult.done());
            }
            deleteCopy(A);
        }
        assertThat(writtenBack).as("the new checksum reached the file without a sync").isTrue();
    }

    @Test
    void anIdleObjectClosedForTheOpenFileLimitKeepsItsChecksums() throws IOException {
        int objects = ObjectStore.MAX_OPEN_OBJECTS + 1; // the last write closes the first object
        for (int index = 0; index < objects; index++) {
            store.write(ObjectId.of(9, index), 0, ByteBuffer.wrap(filled(16, 7)));
        }

        try (ObjectStore recovered = openCopyAsAfterACrash(ObjectId.of(9, 0))) {
            assertThat(readFrom(recovered, ObjectId.of(9, 0), 0, 16)).containsOnly(7);
        }
    }

    @Test
    void aTrimWritesTheFreedBlocksToTheTrailerBeforeZeroingThem() throws IOException {
        store.write(A, 0, ByteBuffer.wrap(filled(2 * BLOCK, 1)));
        store.sync(A);

        store.trim(A, BLOCK, BLOCK);

        try (ObjectStore recovered = openCopyAsAfterACrash(A)) {
            assertThat(readFrom(recovered, A, 0, 2 * BLOCK)).containsSequence(filled(BLOCK, 1))
                    .endsWith(filled(BLOCK, 0));
        }
    }

    @Test
    void concurrentWritersSharingBlocksLoseNothing() throws Exception {
        int writers = 8;
        int stripeBytes = 1000; // not block aligned: neighbouring writers share blocks
        int rounds = 40;
        Queue<Throwable> failures = runAtOnce(Thread.ofVirtual(), writers, owner -> {
            Random random = new Random(owner);
            for (int round = 0; round < rounds; round++) {
                int stripe = random.nextInt(64) * writers + owner;
                byte[] data = randomBytes(stripeBytes, random.nextLong());
                ObjectId objectId = random.nextBoolean() ? A : B;
                int offset = stripe * stripeBytes;
                assertThat(store.write(objectId, offset, ByteBuffer.wrap(data))).isEqualTo(ObjectResult.done());
                assertThat(read(objectId, offset, stripeBytes)).isEqualTo(data);
            }
        });
        assertThat(failures).isEmpty();
        assertThat(store.corruptionsSeen()).isEmpty();
    }

    /**
     * Operations find open objects without the table's monitor while other threads open objects
     * and close idle ones beyond the limit: none may use a file closed under it, and nothing written
     * is lost when its object is closed and opened again.
     */
    @Test
    void manyThreadsOnMoreObjectsThanStayOpenNeverMeetAClosedFile() throws Exception {
        int workers = 4;
        int objectsPerWorker = ObjectStore.MAX_OPEN_OBJECTS / 2 + 16; // together beyond the limit
        int operations = 3000;
        Queue<Throwable> failures = runAtOnce(Thread.ofPlatform(), workers, owner -> {
            Random random = new Random(owner);
            byte[] lastWritten = new byte[objectsPerWorker]; // 0: never written
            for (int operation = 0; operation < operations; operation++) {
                int index = random.nextInt(objectsPerWorker);
                ObjectId objectId = ObjectId.of(20 + owner, index);
                if (lastWritten[index] != 0 && random.nextBoolean()) {
                    assertThat(read(objectId, 0, 16)).as("object %s", objectId).containsOnly(lastWritten[index]);
                } else {
                    byte value = (byte) (operation % 127 + 1);
                    assertThat(store.write(objectId, 0, ByteBuffer.wrap(filled(16, value))))
                            .as("object %s", objectId).isEqualTo(ObjectResult.done());
                    lastWritten[index] = value;
                }
            }
        });
        assertThat(failures).isEmpty();
        assertThat(store.corruptionsSeen()).isEmpty();
    }

    /** An object used since the table last looked for objects to close stays open; one not used since closes first. */
    @Test
    void anObjectUsedAgainStaysOpenWhileOneNotUsedSinceCloses() throws IOException {
        ObjectId firstOther = ObjectId.of(4, 0);
        store.write(A, 0, ByteBuffer.wrap(filled(BLOCK, 1)));
        store.write(B, 0, ByteBuffer.wrap(filled(BLOCK, 2)));
        store.write(firstOther, 0, ByteBuffer.wrap(filled(BLOCK, 3)));
        for (int index = 1; index <= ObjectStore.MAX_OPEN_OBJECTS - 3; index++) { // the table full, A the oldest
            store.write(ObjectId.of(4, index), 0, ByteBuffer.wrap(filled(BLOCK, 4)));
        }
        store.write(ObjectId.of(5, 0), 0, ByteBuffer.wrap(filled(BLOCK, 5))); // closes A
        assertThat(read(B, 0, BLOCK)).containsOnly(2); // B used again, the others not
        store.write(ObjectId.of(5, 1), 0, ByteBuffer.wrap(filled(BLOCK, 5))); // closes one more

        Files.delete(store.dataPath(B));
        Files.delete(store.dataPath(firstOther));
        assertThat(read(B, 0, BLOCK)).as("B is still open: served from its open file").containsOnly(2);
        assertThat(store.read(firstOther, 0, ByteBuffer.allocate(BLOCK))).as("the oldest not used again closed")
                .isEqualTo(failed(new ObjectError.Corrupt(firstOther, ObjectError.Corrupt.FILE_MISSING)));
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefused() {
        assertThatThrownBy(() -> ObjectStore.open(directory, MIB)).isInstanceOf(IOException.class)
                .hasMessageContaining("in use by another process");
    }

    @Test
    void rangesOutsideTheObjectAreProgrammingErrors() {
        assertThatThrownBy(() -> store.write(A, ObjectId.OBJECT_SIZE_BYTES - 1, ByteBuffer.allocate(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("split requests");
    }

    @Test
    void manyObjectsStayWithinTheOpenFileLimit() {
        int objects = ObjectStore.MAX_OPEN_OBJECTS + 40; // every later one evicts an idle one
        for (int index = 0; index < objects; index++) {
            store.write(ObjectId.of(9, index), 0, ByteBuffer.wrap(filled(16, (byte) index)));
        }
        for (int index = 0; index < objects; index++) {
            assertThat(read(ObjectId.of(9, index), 0, 16)).containsOnly((byte) index);
        }
        assertThat(store.usedBytes()).isEqualTo((long) objects * BLOCK);
    }

    // ---- helpers

    @FunctionalInterface
    private interface Worker {
        void run(int index) throws Exception;
    }

    /** Runs {@code worker} on {@code count} threads at once, each given its index; returns what they threw. */
    private static Queue<Throwable> runAtOnce(Thread.Builder threads, int count, Worker worker)
            throws InterruptedException {
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> started = new ArrayList<>();
        for (int index = 0; index < count; index++) {
            int own = index;
            started.add(threads.start(() -> {
                try {
                    worker.run(own);
                } catch (Throwable failure) {
                    failures.add(failure);
                }
            }));
        }
        for (Thread thread : started) {
            thread.join();
        }
        return failures;
    }

    private byte[] read(ObjectId objectId, int offset, int length) {
        return readFrom(store, objectId, offset, length);
    }

    private static byte[] readFrom(ObjectStore store, ObjectId objectId, int offset, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        assertThat(store.read(objectId, offset, buffer)).isEqualTo(ObjectResult.done());
        assertThat(buffer.hasRemaining()).isFalse();
        return buffer.array();
    }

    /** Opens a copy of the objects' files as they are now, as the next start after a crash would. */
    private ObjectStore openCopyAsAfterACrash(ObjectId... objectIds) throws IOException {
        for (ObjectId objectId : objectIds) {
            Path copy = afterCrash.resolve(directory.relativize(store.dataPath(objectId)).toString());
            Files.createDirectories(copy.getParent());
            Files.copy(store.dataPath(objectId), copy);
        }
        return ObjectStore.open(afterCrash, 64 * MIB);
    }

    private void deleteCopy(ObjectId objectId) throws IOException {
        Files.delete(afterCrash.resolve(directory.relativize(store.dataPath(objectId)).toString()));
    }

    private List<Integer> allocated(ObjectId objectId) {
        AllocationMap map = ((ObjectResult.Ok<AllocationMap>) store.allocation(objectId)).value();
        return java.util.stream.IntStream.range(0, AllocationMap.BLOCKS_PER_OBJECT).filter(map::isAllocated)
                .boxed().toList();
    }

    private static <T> ObjectResult<T> failed(ObjectError error) {
        return ObjectResult.failed(error);
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /**
     * Turns an object's file into the layout of earlier stores: the data file without its trailer,
     * whose bytes go to a sidecar {@code <hex>.crc}.
     */
    private static Path toLegacyLayout(Path dataFile) throws IOException {
        Path checksumFile = dataFile.resolveSibling(dataFile.getFileName() + StoreScan.LEGACY_CHECKSUM_SUFFIX);
        try (RandomAccessFile data = new RandomAccessFile(dataFile.toFile(), "rw")) {
            byte[] trailer = new byte[ObjectTrailer.BYTES];
            data.seek(ObjectTrailer.OFFSET);
            data.readFully(trailer);
            Files.write(checksumFile, trailer);
            data.setLength(ObjectTrailer.OFFSET);
        }
        return checksumFile;
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (RandomAccessFile data = new RandomAccessFile(file.toFile(), "rw")) {
            data.seek(position);
            int value = data.read();
            data.seek(position);
            data.write(value ^ 0x01);
        }
    }
}
