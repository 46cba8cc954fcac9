import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one small durable write costs the disk in three shapes, each a write followed by fdatasync on
 * a file whose blocks are all allocated (as after the storage benchmark's fill):
 *
 * <ul>
 *   <li>one page: a 4 KiB block overwritten in place (what nbdkit's file plugin does per write + flush);
 *   <li>two pages apart: the block and, 4 MiB further, the page holding its checksum (what herd's
 *       object store does: data at its offset, checksums in the object's trailer);
 *   <li>two pages adjacent: 8 KiB written at once (what a journal holding each block with its
 *       checksum would do).
 * </ul>
 *
 * The shapes take turns, round after round, so that the disk's moments weigh on all alike. Prints
 * one line per round and shape, then the medians. Usage: java SyncPatterns.java DIR WRITES ROUNDS
 */
public class SyncPatterns {
    private static final int PAGE = 4096;
    private static final long FILE_BYTES = 64L << 20;
    private static final long REGION = 32L << 20; // data blocks live in the first half, "trailers" in the second

    public static void main(String[] args) throws Exception {
        Path file = Files.createTempFile(Path.of(args[0]), "sync-patterns", ".img");
        int writes = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        Map<String, List<Double>> micros = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            fill(channel);
            for (int round = 1; round <= rounds; round++) {
                List<String> order = new ArrayList<>(List.of("one page", "two pages apart", "two pages adjacent"));
                java.util.Collections.rotate(order, round - 1);
                for (String shape : order) {
                    double perWrite = run(channel, shape, writes);
                    micros.computeIfAbsent(shape, key -> new ArrayList<>()).add(perWrite);
                    System.out.printf("round %d, %s: %.1f us per write + fdatasync%n", round, shape, perWrite);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
        for (Map.Entry<String, List<Double>> shape : micros.entrySet()) {
            System.out.printf("median, %s: %.1f us%n", shape.getKey(), median(shape.getValue()));
        }
    }

    private static void fill(FileChannel channel) throws Exception {
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        while (chunk.hasRemaining()) {
            chunk.put((byte) 0x5a);
        }
        for (long offset = 0; offset < FILE_BYTES; offset += chunk.capacity()) {
            chunk.clear();
            while (chunk.hasRemaining()) {
                channel.write(chunk, offset + chunk.position());
            }
        }
        channel.force(true);
    }

    /** Mean microseconds of one write (in the given shape) and its fdatasync, sequential offsets. */
    private static double run(FileChannel channel, String shape, int writes) throws Exception {
        ByteBuffer page = ByteBuffer.allocateDirect(PAGE);
        ByteBuffer twoPages = ByteBuffer.allocateDirect(2 * PAGE);
        long started = System.nanoTime();
        for (int i = 0; i < writes; i++) {
            long offset = (long) i * PAGE % REGION;
            switch (shape) {
                case "one page" -> write(channel, page, offset);
                case "two pages apart" -> {
                    write(channel, page, offset);
                    write(channel, page, REGION + offset / (4L << 20) * PAGE); // the object's trailer page
                }
                default -> write(channel, twoPages, 2 * offset % FILE_BYTES);
            }
            channel.force(false);
        }
        return (System.nanoTime() - started) / 1000.0 / writes;
    }

    private static void write(FileChannel channel, ByteBuffer buffer, long offset) throws Exception {
        buffer.clear();
        while (buffer.hasRemaining()) {
            channel.write(buffer, offset + buffer.position());
        }
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}
