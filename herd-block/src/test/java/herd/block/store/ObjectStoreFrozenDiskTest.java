package herd.block.store;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.Done;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store whose disk hangs: the store lives on an ext4 file system in a loop-mounted file, which
 * {@code fsfreeze} freezes (every write to it then blocks in the kernel until it is thawed, as on a
 * disk that stopped answering). Needs root; {@code bin/test} sets {@code HERD_TEST_REQUIRE_ROOT=1}
 * when it runs as root, and then this test fails rather than skips when it cannot mount.
 */
class ObjectStoreFrozenDiskTest {
    private static final ObjectId OBJECT = ObjectId.of(7, 0);

    @TempDir
    Path scratch;

    private Path mountPoint;
    private boolean mounted;
    private ObjectStore store;

    @BeforeEach
    void mountItsOwnFileSystem() throws Exception {
        Path image = scratch.resolve("disk.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(64L << 20);
        }
        mountPoint = Files.createDirectory(scratch.resolve("mnt"));
        MountCommands.setUp("make an ext4 file system (e2fsprogs)", "mkfs.ext4", "-q", "-F", image.toString());
        MountCommands.setUp("mount an ext4 image", "mount", "-o", "loop", image.toString(), mountPoint.toString());
        mounted = true;
        store = ObjectStore.open(mountPoint.resolve("store"), 1L << 30);
    }

    @AfterEach
    void thawAndUnmount() throws Exception {
        if (!mounted) {
            return;
        }
        MountCommands.run("fsfreeze", "-u", mountPoint.toString()); // fails harmlessly when it is not frozen
        store.close();
        assertThat(MountCommands.run("umount", mountPoint.toString())).as("unmounting the test's file system").isNull();
    }

    @Test
    void anOperationTheFrozenDiskHoldsShowsAsAWaitThatEndsWhenTheDiskAnswers() throws Exception {
        assertThat(store.write(OBJECT, 0, filled(0x11))).isEqualTo(ObjectResult.done());
        assertThat(store.sync(OBJECT)).isEqualTo(ObjectResult.done());
        assertThat(store.longestWait()).isZero();

        assertThat(MountCommands.run("fsfreeze", "-f", mountPoint.toString())).as("freezing the file system").isNull();
        CompletableFuture<ObjectResult<Done>> write = CompletableFuture.supplyAsync(
            () -> store.write(OBJECT, 0, filled(0x22)), runnable -> Thread.ofPlatform().daemon().start(runnable));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.longestWait().compareTo(Duration.ofSeconds(3)) < 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(write).as("the write waits for the disk").isNotDone();
        assertThat(store.longestWait()).as("and its wait shows").isGreaterThanOrEqualTo(Duration.ofSeconds(3));

        assertThat(MountCommands.run("fsfreeze", "-u", mountPoint.toString())).as("thawing the file system").isNull();
        assertThat(write.get(20, TimeUnit.SECONDS)).isEqualTo(ObjectResult.done());
        assertThat(store.longestWait()).as("nothing waits once the disk answers").isZero();
        ByteBuffer read = ByteBuffer.allocate(4096);
        assertThat(store.read(OBJECT, 0, read)).isEqualTo(ObjectResult.done());
        assertThat(read.array()).containsOnly(0x22);
    }

    /**
     * A sync that finds the object's mark taken by a sync the disk holds waits for that one: answered
     * at once, a FLUSH would be acknowledged while the data it covers was not yet durable.
     */
    @Test
    void aSyncOfAnObjectAnotherSyncIsForcingWaitsForIt() throws Exception {
        store.close();
        store = ObjectStore.open(mountPoint.resolve("store"), 1L << 30, Duration.ofHours(1)); // the trailer stays unwritten
        assertThat(store.write(OBJECT, 0, filled(0x11))).isEqualTo(ObjectResult.done());

        assertThat(MountCommands.run("fsfreeze", "-f", mountPoint.toString())).as("freezing the file system").isNull();
        CompletableFuture<ObjectResult<Done>> first = CompletableFuture.supplyAsync(
            () -> store.sync(OBJECT), runnable -> Thread.ofPlatform().daemon().start(runnable));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.longestWait().compareTo(Duration.ofSeconds(1)) < 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(first).as("the first sync waits for the disk (writing the object's checksums)").isNotDone();
        CompletableFuture<ObjectResult<Done>> second = CompletableFuture.supplyAsync(
            () -> store.sync(OBJECT), runnable -> Thread.ofPlatform().daemon().start(runnable));
        Thread.sleep(500);
        assertThat(second).as("the second sync answered while the first was still forcing the object").isNotDone();

        assertThat(MountCommands.run("fsfreeze", "-u", mountPoint.toString())).as("thawing the file system").isNull();
        assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo(ObjectResult.done());
        assertThat(second.get(20, TimeUnit.SECONDS)).isEqualTo(ObjectResult.done());
    }

    private static ByteBuffer filled(int value) {
        byte[] bytes = new byte[4096];
        java.util.Arrays.fill(bytes, (byte) value);
        return ByteBuffer.wrap(bytes);
    }
}
