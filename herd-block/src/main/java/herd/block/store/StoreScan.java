package herd.block.store;

import static herd.block.volume.AllocationMap.BLOCK_SIZE_BYTES;

import herd.block.volume.AllocationMap;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What opening a store does to its directory: counts used space and removes half-created objects. */
final class StoreScan {
    private static final Logger log = LoggerFactory.getLogger(StoreScan.class);
    private static final int HEX_DIGITS = 16;

    private StoreScan() {}

    static boolean isDataFile(Path file) {
        String name = file.getFileName().toString();
        return name.length() == HEX_DIGITS && name.chars().allMatch(StoreScan::isLowerHex);
    }

    private static boolean isLowerHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    /**
     * Bytes of allocated blocks over every object. An object is created data file first, checksum
     * file second, and nothing in it is durable before its first sync, which forces a complete
     * checksum file; so a lone data file, a lone or short checksum file is the leftover of a crash
     * during creation and is removed. A checksum file that cannot be read otherwise counts as a
     * full object (reads of it fail until it is repaired).
     */
    static long usedBytes(Path objectsDirectory) throws IOException {
        long used = 0;
        try (DirectoryStream<Path> subdirectories = Files.newDirectoryStream(objectsDirectory)) {
            for (Path subdirectory : subdirectories) {
                used += usedBytesIn(subdirectory);
            }
        }
        return used;
    }

    private static long usedBytesIn(Path subdirectory) throws IOException {
        long used = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(subdirectory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (isDataFile(file)) {
                    used += allocatedBytes(file, subdirectory.resolve(name + ".crc"));
                } else if (name.endsWith(".crc") && !Files.exists(subdirectory.resolve(name.substring(0,
                        name.length() - 4)))) {
                    log.warn("removing checksum file {} whose data file is missing (creation interrupted)", file);
                    Files.deleteIfExists(file);
                }
            }
        }
        return used;
    }

    private static long allocatedBytes(Path dataFile, Path checksumFile) throws IOException {
        if (!Files.exists(checksumFile) || Files.size(checksumFile) < ChecksumFile.FILE_BYTES) {
            log.warn("removing object {} whose checksum file is missing or short (creation interrupted)", dataFile);
            Files.deleteIfExists(checksumFile);
            Files.deleteIfExists(dataFile);
            return 0;
        }
        ByteBuffer header = ByteBuffer.allocate(ChecksumFile.CHECKSUMS_OFFSET);
        try (FileChannel channel = FileChannel.open(checksumFile, StandardOpenOption.READ)) {
            while (header.hasRemaining() && channel.read(header) >= 0) {
                // reads the header and bitmap
            }
        }
        if (header.getInt(0) != ChecksumFile.MAGIC) {
            log.error("checksum file {} is damaged; its object reads as an I/O error until repaired", checksumFile);
            return ObjectId.OBJECT_SIZE_BYTES;
        }
        long[] words = new long[AllocationMap.WORDS];
        ChecksumFile.decodeBitmap(header, words);
        return (long) AllocationMap.ofWords(words).allocatedBlocks() * BLOCK_SIZE_BYTES;
    }

}
