package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.store.ObjectStore;
import herd.block.testing.Tool;
import herd.block.volume.ObjectError;
import herd.block.volume.VolumeDevice;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server driven by the real NBD clients: nbdinfo, qemu-io, qemu-img, nbdcopy and fio. */
class NbdClientToolsTest {
    private static final long MIB = 1024 * 1024;
    private static final int CORRUPT_VOLUME_ID = 7;

    @TempDir
    static Path directory;

    private static ObjectStore store;
    private static NbdServer server;
    private static String base;

    /** Every export is its own volume so that the tests do not see each other's data. */
    @BeforeAll
    static void startServer() throws IOException {
        store = ObjectStore.open(directory.resolve("store"), 1024 * MIB);
        Map<String, BlockDevice> devices = Map.of(
                "info", new VolumeDevice("info", 64 * MIB, 1, store),
                "qemu", new VolumeDevice("qemu", 16 * MIB, 2, store),
                "convert", new VolumeDevice("convert", 24 * MIB, 3, store),
                "copy", new VolumeDevice("copy", 32 * MIB, 4, store),
                "fio", new VolumeDevice("fio", 64 * MIB, 5, store),
                "ro", new VolumeDevice("ro", 8 * MIB, 6, store, true),
                "corrupt", new VolumeDevice("corrupt", 8 * MIB, CORRUPT_VOLUME_ID, store));
        MapExportResolver exports = new MapExportResolver(devices);
        ExportResolver resolver = new ExportResolver() {
            @Override
            public ExportResolution resolve(String exportName) {
                return exportName.equals("elsewhere") ? new ExportResolution.Refused("attached on node n2")
                        : exports.resolve(exportName);
            }

            @Override
            public List<String> exportNames() {
                return exports.exportNames();
            }
        };
        server = new NbdServer(new InetSocketAddress("127.0.0.1", 0), resolver);
        server.start();
        base = "nbd://127.0.0.1:" + server.localAddress().getPort() + "/";
    }

    @AfterAll
    static void stopServer() throws IOException {
        server.close();
        store.close();
    }

    @Test
    void nbdinfoShowsSizeAndFlags() {
        Tool.Result info = Tool.run("nbdinfo", base + "info");

        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.output()).contains("export-size: 67108864", "can_multi_conn: true", "can_flush: true",
                "can_fua: true", "can_trim: true", "can_zero: true", "is_read_only: false", "base:allocation",
                "block_size_maximum: 33554432");
    }

    @Test
    void nbdinfoListsExports() {
        Tool.Result list = Tool.run("nbdinfo", "--list", base);

        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.output()).contains("export=\"info\"", "export=\"qemu\"", "export=\"ro\"");
    }

    @Test
    void nbdinfoMapsHolesAndData() {
        Tool.Result write = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 4M 1M", "-c",
                "write -P 0x5b 10M 4k", base + "info");
        assertThat(write.exitCode()).as(write.toString()).isZero();

        Tool.Result map = Tool.run("nbdinfo", "--map", base + "info");

        assertThat(map.exitCode()).as(map.toString()).isZero();
        assertThat(map.output().lines().map(line -> line.trim().split("\\s+")).map(List::of)).containsExactly(
                List.of("0", "4194304", "3", "hole,zero"),
                List.of("4194304", "1048576", "0", "data"),
                List.of("5242880", "5242880", "3", "hole,zero"),
                List.of("10485760", "4096", "0", "data"),
                List.of("10489856", "56619008", "3", "hole,zero"));
    }

    @Test
    void qemuIoPatternsSurviveAcrossObjectBoundariesAndUnalignedOffsets() {
        String uri = base + "qemu";
        Tool.Result write = Tool.run("qemu-io", "-f", "raw",
                "-c", "write -P 0xab 0 1M",
                "-c", "write -P 0xcd 4193792 1024", // 512 bytes each side of the first object boundary
                "-c", "write -P 0x11 12345 777",
                "-c", "write -P 0x22 8388607 3", // one byte before, two after the second boundary
                "-c", "write -z 100000 5000",
                uri);
        assertThat(write.exitCode()).as(write.toString()).isZero();

        Tool.Result read = Tool.run("qemu-io", "-f", "raw",
                "-c", "read -P 0xab 0 12345",
                "-c", "read -P 0x11 12345 777",
                "-c", "read -P 0xab 13122 86878",
                "-c", "read -P 0 100000 5000",
                "-c", "read -P 0xab 105000 943576",
                "-c", "read -P 0 1048576 3144704",
                "-c", "read -P 0xcd 4193792 1024",
                "-c", "read -P 0 4194816 4193791",
                "-c", "read -P 0x22 8388607 3",
                "-c", "read -P 0 8388610 100",
                uri);
        assertThat(read.exitCode()).as(read.toString()).isZero();
        assertThat(read.output()).doesNotContain("fail");
    }

    @Test
    void qemuImgConvertsAnImageInAndComparesIdentical(@TempDir Path images) throws IOException {
        Path image = images.resolve("source.raw");
        writeSparseRandomImage(image, 24 * MIB, 42);

        Tool.Result convert = Tool.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", image.toString(),
                base + "convert");
        assertThat(convert.exitCode()).as(convert.toString()).isZero();
        Tool.Result compare = Tool.run("qemu-img", "compare", "-f", "raw", "-F", "raw", image.toString(),
                base + "convert");
        Tool.Result info = Tool.run("qemu-img", "info", base + "convert");

        assertThat(compare.exitCode()).as(compare.toString()).isZero();
        assertThat(compare.output()).contains("Images are identical");
        assertThat(info.output()).contains("virtual size: 24 MiB (25165824 bytes)");
    }

    @Test
    void nbdcopyWithFourConnectionsCopiesInAndOut(@TempDir Path images) throws IOException {
        Path image = images.resolve("in.raw");
        Path copy = images.resolve("out.raw");
        writeSparseRandomImage(image, 32 * MIB, 7);

        Tool.Result in = Tool.run("nbdcopy", "--connections", "4", image.toString(), base + "copy");
        assertThat(in.exitCode()).as(in.toString()).isZero();
        Tool.Result out = Tool.run("nbdcopy", "--connections", "4", base + "copy", copy.toString());
        assertThat(out.exitCode()).as(out.toString()).isZero();

        assertThat(Files.mismatch(image, copy)).isEqualTo(-1);
    }

    @Test
    void fioVerifiesARandomWriteWorkload() {
        Tool.Result fio = Tool.run("fio", "--name=verify", "--ioengine=nbd", "--uri=" + base + "fio",
                "--rw=randwrite", "--bs=4k", "--verify=crc32c", "--size=64M", "--iodepth=16", "--do_verify=1",
                "--verify_fatal=1", "--verify_state_save=0");

        assertThat(fio.exitCode()).as(fio.toString()).isZero();
        assertThat(fio.output()).doesNotContain("verify: bad", "fio: pid");
    }

    @Test
    void unknownExportIsRefusedWithItsName() {
        Tool.Result info = Tool.run("nbdinfo", base + "nosuch");
        Tool.Result qemu = Tool.run("qemu-img", "info", base + "nosuch");

        assertThat(info.exitCode()).isNotZero();
        assertThat(info.output()).contains("nosuch");
        assertThat(qemu.exitCode()).isNotZero();
        assertThat(qemu.output()).contains("export 'nosuch' does not exist");
    }

    @Test
    void exportAttachedElsewhereIsRefusedWithTheReason() {
        Tool.Result info = Tool.run("nbdinfo", base + "elsewhere");
        Tool.Result qemu = Tool.run("qemu-img", "info", base + "elsewhere");

        assertThat(info.exitCode()).isNotZero();
        assertThat(qemu.exitCode()).isNotZero();
        assertThat(qemu.output()).contains("attached on node n2");
    }

    @Test
    void readOnlyExportRefusesWrites() {
        Tool.Result info = Tool.run("nbdinfo", base + "ro");
        Tool.Result write = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", base + "ro");
        Tool.Result read = Tool.run("qemu-io", "-r", "-f", "raw", "-c", "read -P 0 0 4k", base + "ro");

        assertThat(info.output()).contains("is_read_only: true", "can_trim: false");
        assertThat(write.exitCode()).isNotZero();
        assertThat(write.output()).doesNotContain("wrote");
        assertThat(read.exitCode()).as(read.toString()).isZero();
    }

    @Test
    void aFlippedByteOnDiskReadsAsEioAndIsReported() throws IOException {
        String uri = base + "corrupt";
        Tool.Result write = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x77 0 64k", uri);
        assertThat(write.exitCode()).as(write.toString()).isZero();
        ObjectId object = ObjectId.of(CORRUPT_VOLUME_ID, 0);
        flipByte(dataFile(object), 5 * 4096 + 17);

        Tool.Result corrupt = Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x77 20480 4096", uri);
        Tool.Result intact = Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x77 0 20480", "-c",
                "read -P 0x77 24576 40960", uri);

        assertThat(corrupt.exitCode()).isNotZero();
        assertThat(corrupt.output()).contains("Input/output error");
        assertThat(intact.exitCode()).as(intact.toString()).isZero();
        assertThat(store.corruptionsSeen()).contains(new ObjectError.Corrupt(object, 5));
    }

    @Test
    void aFullStoreAnswersEnospcAndKeepsEarlierData(@TempDir Path small) throws IOException {
        try (ObjectStore smallStore = ObjectStore.open(small, 6 * MIB);
                NbdServer smallServer = new NbdServer(new InetSocketAddress("127.0.0.1", 0),
                        new MapExportResolver(Map.of("big", new VolumeDevice("big", 32 * MIB, 1, smallStore))))) {
            smallServer.start();
            String uri = "nbd://127.0.0.1:" + smallServer.localAddress().getPort() + "/big";

            Tool.Result fits = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x3c 0 4M", uri);
            Tool.Result tooMuch = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x3d 8M 4M", uri);
            Tool.Result earlier = Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x3c 0 4M", "-c",
                    "read -P 0 8M 4M", uri);

            assertThat(fits.exitCode()).as(fits.toString()).isZero();
            assertThat(tooMuch.exitCode()).isNotZero();
            assertThat(tooMuch.output()).contains("No space left on device");
            assertThat(earlier.exitCode()).as(earlier.toString()).isZero();
            assertThat(smallStore.usedBytes()).isEqualTo(4 * MIB);
        }
    }

    /** Random data with every other MiB left as a hole, so that zero detection gets exercised too. */
    private static void writeSparseRandomImage(Path image, long sizeBytes, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] mib = new byte[(int) MIB];
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(sizeBytes);
            for (long offset = 0; offset < sizeBytes; offset += 2 * MIB) {
                random.nextBytes(mib);
                file.seek(offset);
                file.write(mib);
            }
        }
    }

    private static Path dataFile(ObjectId object) throws IOException {
        try (Stream<Path> files = Files.walk(directory.resolve("store"))) {
            return files.filter(file -> file.getFileName().toString().equals(object.hex())).findFirst().orElseThrow();
        }
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (RandomAccessFile data = new RandomAccessFile(file.toFile(), "rw")) {
            data.seek(position);
            int value = data.read();
            data.seek(position);
            data.write(value ^ 0xFF);
        }
    }
}
