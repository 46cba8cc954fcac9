package herd.block.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.Done;
import herd.block.nbd.DeviceResult;
import herd.block.nbd.Errno;
import herd.block.nbd.Extent;
import herd.block.store.ObjectStore;
import herd.block.testing.MemoryTempDirFactory;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VolumeDeviceTest {
    private static final int OBJECT = ObjectId.OBJECT_SIZE_BYTES;

    @TempDir(factory = MemoryTempDirFactory.class)
    Path directory;

    /** Threads of their own: the common pool may have one thread on a small machine, and a held flush takes it. */
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private ObjectStore store;
    private RecordingFlushes io;
    private VolumeDevice device;

    /** The real store, with the objects of each flush written down. */
    private static final class RecordingFlushes implements ObjectIo {
        final ObjectStore store;
        final List<List<ObjectId>> flushes = new ArrayList<>();
        /** When set, a flush of some objects waits for it, after counting down {@link #flushHeld}. */
        volatile CountDownLatch holdFlushes;
        final CountDownLatch flushHeld = new CountDownLatch(1);

        RecordingFlushes(ObjectStore store) {
            this.store = store;
        }

        @Override
        public ObjectResult<Done> read(ObjectId objectId, int offsetInObject, ByteBuffer destination) {
            return store.read(objectId, offsetInObject, destination);
        }

        @Override
        public ObjectResult<Done> write(ObjectId objectId, int offsetInObject, ByteBuffer source) {
            return store.write(objectId, offsetInObject, source);
        }

        @Override
        public ObjectResult<Done> writeZeroes(ObjectId objectId, int offsetInObject, int length, boolean allocate) {
            return store.writeZeroes(objectId, offsetInObject, length, allocate);
        }

        @Override
        public ObjectResult<Done> trim(ObjectId objectId, int offsetInObject, int length) {
            return store.trim(objectId, offsetInObject, length);
        }

        @Override
        public ObjectResult<AllocationMap> allocation(ObjectId objectId) {
            return store.allocation(objectId);
        }

        @Override
        public ObjectResult<Done> flush(Collection<ObjectId> objectIds) {
            synchronized (this) {
                flushes.add(List.copyOf(objectIds));
            }
            CountDownLatch hold = holdFlushes;
            if (hold != null && !objectIds.isEmpty()) {
                flushHeld.countDown();
                try {
                    assertThat(hold.await(10, TimeUnit.SECONDS)).as("flush released").isTrue();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return store.flush(objectIds);
        }
    }

    @BeforeEach
    void open() throws IOException {
        store = ObjectStore.open(directory, 1L << 30);
        io = new RecordingFlushes(store);
        device = new VolumeDevice("v", 4L * OBJECT, 12, io);
    }

    @AfterEach
    void close() throws IOException {
        threads.shutdownNow();
        store.close();
    }

    @Test
    void flushSyncsTheObjectsWrittenSinceTheLastFlush() {
        device.write(OBJECT - 10, ByteBuffer.allocate(20), false);
        assertThat(device.flush()).isEqualTo(DeviceResult.done());
        device.write(3L * OBJECT, ByteBuffer.allocate(1), false);
        device.flush();
        device.flush();

        assertThat(io.flushes).hasSize(3);
        assertThat(io.flushes.get(0)).containsExactlyInAnyOrder(ObjectId.of(12, 0), ObjectId.of(12, 1));
        assertThat(io.flushes.get(1)).containsExactly(ObjectId.of(12, 3));
        // still asked: the I/O layer may hold changes made through another device of the volume
        assertThat(io.flushes.get(2)).isEmpty();
    }

    @Test
    void aFlushThatBeginsWhileAnotherIsSyncingAnswersOnlyOnceThatOneIsDone() throws Exception {
        io.holdFlushes = new CountDownLatch(1);
        device.write(0, ByteBuffer.allocate(10), false);
        CompletableFuture<DeviceResult<Done>> first = CompletableFuture.supplyAsync(device::flush, threads);
        assertThat(io.flushHeld.await(10, TimeUnit.SECONDS)).isTrue();

        // as a FLUSH on another connection does: the write was acknowledged before it was received
        CompletableFuture<DeviceResult<Done>> second = CompletableFuture.supplyAsync(device::flush, threads);
        Thread.sleep(200);
        assertThat(second).as("the second flush answered while the write was still being synced").isNotDone();

        io.holdFlushes.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(DeviceResult.done());
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(DeviceResult.done());
    }

    @Test
    void fuaWritesSyncTheirObjectsBeforeReturning() {
        device.write(2L * OBJECT + 5, ByteBuffer.allocate(8), true);

        assertThat(io.flushes).containsExactly(List.of(ObjectId.of(12, 2)));
    }

    @Test
    void absentObjectsReadAsZeros() {
        ByteBuffer buffer = ByteBuffer.allocate(100);
        buffer.put(0, new byte[] {9, 9, 9});

        assertThat(device.read(OBJECT - 50, buffer)).isEqualTo(DeviceResult.done());
        assertThat(buffer.array()).containsOnly(0);
    }

    @Test
    void rangesBeyondTheEndAndReadOnlyWritesAreRefused() {
        VolumeDevice readOnly = new VolumeDevice("r", OBJECT, 13, io, true);

        assertThat(device.read(4L * OBJECT - 1, ByteBuffer.allocate(2))).isInstanceOfSatisfying(
                DeviceResult.Failed.class, failed -> assertThat(failed.error().errno()).isEqualTo(Errno.EINVAL));
        assertThat(readOnly.write(0, ByteBuffer.allocate(1), false)).isInstanceOfSatisfying(
                DeviceResult.Failed.class, failed -> assertThat(failed.error().errno()).isEqualTo(Errno.EPERM));
    }

    @Test
    void blockStatusMergesExtentsAcrossObjectsAndStopsAtTheLimit() {
        device.write(OBJECT - 4096, ByteBuffer.allocate(8192), false);
        device.write(2L * OBJECT, ByteBuffer.allocate(4096), false);

        List<Extent> all = ((DeviceResult.Ok<List<Extent>>) device.blockStatus(0, 4L * OBJECT, 100)).value();
        List<Extent> two = ((DeviceResult.Ok<List<Extent>>) device.blockStatus(0, 4L * OBJECT, 2)).value();

        assertThat(all).containsExactly(
                new Extent(OBJECT - 4096, true, true),
                new Extent(8192, false, false),
                new Extent(OBJECT - 4096, true, true),
                new Extent(4096, false, false),
                new Extent(2L * OBJECT - 4096, true, true));
        assertThat(two).containsExactly(all.get(0), all.get(1));
    }
}
