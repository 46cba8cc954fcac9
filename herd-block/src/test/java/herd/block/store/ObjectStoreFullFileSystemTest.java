package herd.block.store;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.Done;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store whose file system fills up before the store's capacity does (other data took the disk):
 * the store lives on a 64 KiB tmpfs, 16 pages, which needs root to mount. {@code bin/test} sets
 * {@code HERD_TEST_REQUIRE_ROOT=1} when it runs as root, and then this test fails rather than skips
 * when it cannot mount.
 */
class ObjectStoreFullFileSystemTest {
    private static final int BLOCK = AllocationMap.BLOCK_SIZE_BYTES;
    private static final ObjectId OBJECT = ObjectId.of(5, 0);
    private static final ObjectId ANOTHER = ObjectId.of(5, 1);

    @TempDir
    Path mountPoint;

    private boolean mounted;
    private ObjectStore store;

    @BeforeEach
    void mountSmallFileSystem() throws Exception {
        MountCommands.setUp("mount a 64 KiB tmpfs", "mount", "-t", "tmpfs", "-o", "size=64k", "herd-test-full",
                mountPoint.toString());
        mounted = true;
        store = ObjectStore.open(mountPoint.resolve("store"), 1L << 30);
    }

    @AfterEach
    void unmount() throws Exception {
        if (store != null) {
            store.close();
        }
        if (mounted) {
            String failure = MountCommands.run("umount", mountPoint.toString());
            assertThat(failure).as("unmounting the test's tmpfs").isNull();
        }
    }

    @Test
    void writesTheFileSystemHasNoRoomForGiveNoSpaceAndChangeNoBlockThatReadsBack() throws IOException {
        // the object's trailer takes 2 pages, its first 4 blocks 4 more: 10 of the 16 pages are left
        assertThat(store.write(OBJECT, 0, filled(4 * BLOCK, 0x11))).isEqualTo(ObjectResult.done());

        // 24 new blocks: the file system takes 10 of them and refuses the rest
        assertThat(store.write(OBJECT, 8 * BLOCK, filled(24 * BLOCK, 0x22))).isInstanceOfSatisfying(
                ObjectResult.Failed.class, failed -> assertThat(failed.error()).isInstanceOf(ObjectError.NoSpace.class));
        assertThat(read(OBJECT, 8 * BLOCK, 24 * BLOCK)).as("the refused write's blocks").containsOnly(0);
        assertThat(store.usedBytes()).isEqualTo(4L * BLOCK);

        // block 3 is written, block 4 is new: nothing is left for block 4, and block 3 keeps its data
        assertThat(store.write(OBJECT, 3 * BLOCK, filled(2 * BLOCK, 0x33))).isInstanceOfSatisfying(
                ObjectResult.Failed.class, failed -> assertThat(failed.error()).isInstanceOf(ObjectError.NoSpace.class));
        assertThat(read(OBJECT, 0, 4 * BLOCK)).as("verified, unchanged").containsOnly(0x11);
        assertThat(read(OBJECT, 4 * BLOCK, BLOCK)).containsOnly(0);

        // a new object cannot even get its trailer, and leaves no file behind
        assertThat(store.write(ANOTHER, 0, filled(BLOCK, 0x44))).isInstanceOfSatisfying(
                ObjectResult.Failed.class, failed -> assertThat(failed.error()).isInstanceOf(ObjectError.NoSpace.class));
        assertThat(store.list()).containsExactly(OBJECT);

        // blocks written before need no new space: they still take writes, and a sync succeeds
        assertThat(store.write(OBJECT, 0, filled(4 * BLOCK, 0x55))).isEqualTo(ObjectResult.done());
        assertThat(store.sync(OBJECT)).isEqualTo(ObjectResult.done());
        assertThat(read(OBJECT, 0, 4 * BLOCK)).containsOnly(0x55);
        assertThat(store.corruptionsSeen()).isEmpty();
    }

    private byte[] read(ObjectId objectId, int offset, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        ObjectResult<Done> result = store.read(objectId, offset, buffer);
        assertThat(result).as("reading %s+%s", offset, length).isEqualTo(ObjectResult.done());
        return buffer.array();
    }

    private static ByteBuffer filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return ByteBuffer.wrap(bytes);
    }
}
