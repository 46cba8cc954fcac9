import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * What happens to the JVM when the checksum of a mapped block meets a page the kernel cannot
 * provide (SIGBUS): a disk's read error does this, and so does a file shorter than its mapping,
 * which is the case here because it can be made on any machine. A copy from the mapping
 * ({@code get}) is guarded and throws InternalError; the CRC32C intrinsic is not, and the JVM
 * dies with a fatal error report. Run by bench/storage/mmap-reads/run; prints what it reached.
 *
 * <pre>java SigbusInCrc.java DIR</pre>
 */
public class SigbusInCrc {
    public static void main(String[] args) throws Exception {
        Path file = Files.createTempFile(Path.of(args[0]), "sigbus", ".bin");
        Files.write(file, new byte[1 << 20]);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, 1 << 20);
            CRC32C warm = new CRC32C();
            for (int i = 0; i < 200_000; i++) {
                warm.update(mapping.slice(0, 4096)); // compiled, as in a server that has run a while
            }
            channel.truncate(4096); // the pages past 4 KiB are gone: touching them raises SIGBUS
            try {
                mapping.get(65536, new byte[4096]);
                System.out.println("copy from the mapping: no fault");
            } catch (Throwable e) {
                System.out.println("copy from the mapping: " + e);
            }
            System.out.println("checksum of a block past the end of the file: starting");
            System.out.flush();
            CRC32C crc = new CRC32C();
            crc.update(mapping.slice(65536, 4096));
            System.out.println("checksum of a block past the end of the file: returned " + crc.getValue());
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
