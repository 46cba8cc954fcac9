package herd.block.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.Done;
import herd.block.nbd.DeviceResult;
import herd.block.nbd.Extent;
import herd.block.store.ObjectStore;
import herd.block.testing.MemoryTempDirFactory;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random writes, zeroings, trims and reads of a volume on a real store, checked against a byte
 * array; offsets cluster around object and block boundaries, where the splitting happens.
 */
class VolumeDeviceModelTest {
    private static final int OBJECT = ObjectId.OBJECT_SIZE_BYTES;
    private static final int BLOCK = AllocationMap.BLOCK_SIZE_BYTES;
    /** Three objects and a partial fourth. */
    private static final int VOLUME_BYTES = 3 * OBJECT + 5000;
    private static final int MAX_LENGTH = 3 * BLOCK * 25;

    sealed interface Op {}

    record Write(int offset, int length, long seed, boolean fua) implements Op {}

    record Zero(int offset, int length, boolean noHole) implements Op {}

    record Trim(int offset, int length) implements Op {}

    record Flush() implements Op {}

    @Property(tries = 40)
    void volumeBehavesLikeAByteArray(@ForAll("operations") List<Op> operations) throws IOException {
        Path directory = MemoryTempDirFactory.create("volume-model");
        try {
            byte[] model = new byte[VOLUME_BYTES];
            try (ObjectStore store = ObjectStore.open(directory, 1L << 30)) {
                VolumeDevice device = new VolumeDevice("model", VOLUME_BYTES, 5, store);
                for (Op operation : operations) {
                    apply(device, model, operation);
                    assertAround(device, model, operation);
                }
                assertThat(readAll(device)).isEqualTo(model);
                assertThat(device.flush()).isEqualTo(DeviceResult.done());
                assertHolesReadAsZeros(device, model);
            }
            try (ObjectStore reopened = ObjectStore.open(directory, 1L << 30)) {
                assertThat(readAll(new VolumeDevice("model", VOLUME_BYTES, 5, reopened))).isEqualTo(model);
            }
        } finally {
            deleteRecursively(directory);
        }
    }

    private static void apply(VolumeDevice device, byte[] model, Op operation) {
        switch (operation) {
            case Write(int offset, int length, long seed, boolean fua) -> {
                byte[] data = new byte[length];
                new Random(seed).nextBytes(data);
                assertThat(device.write(offset, ByteBuffer.wrap(data), fua)).isEqualTo(DeviceResult.done());
                System.arraycopy(data, 0, model, offset, length);
            }
            case Zero(int offset, int length, boolean noHole) -> {
                assertThat(device.writeZeroes(offset, length, noHole, false)).isEqualTo(DeviceResult.done());
                Arrays.fill(model, offset, offset + length, (byte) 0);
            }
            case Trim(int offset, int length) -> {
                assertThat(device.trim(offset, length, false)).isEqualTo(DeviceResult.done());
                // This store releases (and zeroes) exactly the whole blocks inside the range.
                int firstWhole = Math.ceilDiv(offset, BLOCK) * BLOCK;
                int endWhole = (offset + length) / BLOCK * BLOCK;
                if (firstWhole < endWhole) {
                    Arrays.fill(model, firstWhole, endWhole, (byte) 0);
                }
            }
            case Flush() -> assertThat(device.flush()).isEqualTo(DeviceResult.done());
        }
    }

    /** Reads the operation's range and two blocks either side (the whole volume is read at the end). */
    private static void assertAround(VolumeDevice device, byte[] model, Op operation) {
        int[] range = switch (operation) {
            case Write write -> new int[] {write.offset(), write.length()};
            case Zero zero -> new int[] {zero.offset(), zero.length()};
            case Trim trim -> new int[] {trim.offset(), trim.length()};
            case Flush flush -> new int[] {0, 0};
        };
        int from = Math.max(0, range[0] - 2 * BLOCK);
        int to = Math.min(VOLUME_BYTES, range[0] + range[1] + 2 * BLOCK);
        ByteBuffer buffer = ByteBuffer.allocate(to - from);
        assertThat(device.read(from, buffer)).isEqualTo(DeviceResult.done());
        assertThat(buffer.array()).isEqualTo(Arrays.copyOfRange(model, from, to));
    }

    private static byte[] readAll(VolumeDevice device) {
        ByteBuffer buffer = ByteBuffer.allocate(VOLUME_BYTES);
        DeviceResult<Done> result = device.read(0, buffer);
        assertThat(result).isEqualTo(DeviceResult.done());
        return buffer.array();
    }

    private static void assertHolesReadAsZeros(VolumeDevice device, byte[] model) {
        long offset = 0;
        while (offset < VOLUME_BYTES) {
            DeviceResult<List<Extent>> status = device.blockStatus(offset, VOLUME_BYTES - offset, 16);
            List<Extent> extents = ((DeviceResult.Ok<List<Extent>>) status).value();
            assertThat(extents).isNotEmpty().hasSizeLessThanOrEqualTo(16);
            for (Extent extent : extents) {
                if (extent.hole()) {
                    byte[] hole = Arrays.copyOfRange(model, (int) offset, (int) (offset + extent.lengthBytes()));
                    assertThat(Arrays.mismatch(hole, new byte[hole.length])).as("first non-zero byte in the hole at %d",
                            offset).isEqualTo(-1);
                }
                offset += extent.lengthBytes();
            }
        }
        assertThat(offset).isEqualTo(VOLUME_BYTES);
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> offsets = Arbitraries.oneOf(
                Arbitraries.integers().between(0, VOLUME_BYTES - 1),
                Arbitraries.integers().between(1, 3).flatMap(object -> Arbitraries.integers()
                        .between(object * OBJECT - 2 * BLOCK, object * OBJECT + BLOCK)),
                Arbitraries.integers().between(0, VOLUME_BYTES / BLOCK - 1).map(block -> block * BLOCK));
        Arbitrary<Integer> lengths = Arbitraries.oneOf(Arbitraries.integers().between(1, MAX_LENGTH),
                Arbitraries.integers().between(1, 8).map(blocks -> blocks * BLOCK));
        Arbitrary<Op> write = Combinators.combine(offsets, lengths, Arbitraries.longs(), Arbitraries.of(false, true))
                .as((offset, length, seed, fua) -> new Write(offset, clip(offset, length), seed, fua));
        Arbitrary<Op> zero = Combinators.combine(offsets, lengths, Arbitraries.of(false, true))
                .as((offset, length, noHole) -> new Zero(offset, clip(offset, length), noHole));
        Arbitrary<Op> trim = Combinators.combine(offsets, lengths)
                .as((offset, length) -> new Trim(offset, clip(offset, length)));
        Arbitrary<Op> flush = Arbitraries.just(new Flush());
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, write), net.jqwik.api.Tuple.of(2, zero),
                net.jqwik.api.Tuple.of(2, trim), net.jqwik.api.Tuple.of(1, flush))
                .list().ofMinSize(1).ofMaxSize(12);
    }

    private static int clip(int offset, int length) {
        return Math.min(length, VOLUME_BYTES - offset);
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> {
                try {
                    Files.delete(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
