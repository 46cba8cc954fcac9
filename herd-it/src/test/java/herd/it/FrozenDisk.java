package herd.it;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A directory moved onto a disk of its own that a test can make hang: an ext4 file system in a
 * loop-mounted file, mounted over the directory with the directory's content copied in. While
 * frozen ({@code fsfreeze}) every write to it blocks in the kernel, as on a disk that stopped
 * answering, and cannot be interrupted until it is thawed; {@link #close} thaws and unmounts. The
 * directory's process must not run while it is moved. Needs root and e2fsprogs: {@code bin/test}
 * sets {@code HERD_TEST_REQUIRE_ROOT=1} as root, and then a test that cannot mount fails rather than skips.
 */
final class FrozenDisk implements AutoCloseable {
    private static final long SIZE_BYTES = 256L << 20;

    private final Path directory;
    private boolean mounted;

    private FrozenDisk(Path directory) {
        this.directory = directory;
    }

    /** Puts {@code directory}'s content on a new file system mounted over it; the image file goes in {@code scratch}. */
    static FrozenDisk under(Path directory, Path scratch) throws Exception {
        Files.createDirectories(scratch);
        Path image = scratch.resolve("disk.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(SIZE_BYTES); // sparse: takes what is written
        }
        Path staging = Files.createDirectories(scratch.resolve("staging"));
        FrozenDisk disk = new FrozenDisk(directory);
        disk.must("making a file system", List.of("mkfs.ext4", "-q", "-F", image.toString()));
        disk.must("mounting it", List.of("mount", "-o", "loop", image.toString(), staging.toString()));
        try {
            Files.delete(staging.resolve("lost+found"));
            disk.must("copying " + directory + " onto it", List.of("cp", "-a", directory + "/.", staging.toString()));
        } finally {
            disk.must("unmounting it", List.of("umount", staging.toString()));
        }
        disk.must("mounting it over " + directory, List.of("mount", "-o", "loop", image.toString(), directory.toString()));
        disk.mounted = true;
        return disk;
    }

    /** From now on every write to the directory waits until {@link #thaw}. */
    void freeze() throws Exception {
        must("freezing " + directory, List.of("fsfreeze", "-f", directory.toString()));
    }

    void thaw() throws Exception {
        must("thawing " + directory, List.of("fsfreeze", "-u", directory.toString()));
    }

    private void must(String what, List<String> command) throws Exception {
        NbdTools.ToolResult result = NbdTools.run(command);
        if (result.exitCode() == 0) {
            return;
        }
        String failure = what + ": " + String.join(" ", command) + ": " + result.output();
        if (mounted || "1".equals(System.getenv("HERD_TEST_REQUIRE_ROOT"))) {
            fail(failure + (mounted ? "" : " (HERD_TEST_REQUIRE_ROOT=1 asks for this test to run)"));
        }
        assumeTrue(false, "a disk of its own needs root and e2fsprogs: " + failure);
    }

    /** Thaws (when frozen) and unmounts, lazily: the directory's process may still hold files there. */
    @Override
    public void close() throws Exception {
        if (!mounted) {
            return;
        }
        NbdTools.run(List.of("fsfreeze", "-u", directory.toString())); // fails harmlessly when it is not frozen
        NbdTools.ToolResult unmounted = NbdTools.run(List.of("umount", "-l", directory.toString()));
        mounted = false;
        if (unmounted.exitCode() != 0) {
            throw new AssertionError("could not unmount the disk under " + directory + ": " + unmounted.output());
        }
    }
}
