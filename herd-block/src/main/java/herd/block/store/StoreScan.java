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
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What opening a store does to its directory: moves the checksum files of earlier stores into their
 * data files, counts used space and removes half-created objects.
 */
final class StoreScan {
    private static final Logger log = LoggerFactory.getLogger(StoreScan.class);
    private static final int HEX_DIGITS = 16;
    /** The sidecar checksum file of earlier stores; its bytes are the trailer's. */
    static final String LEGACY_CHECKSUM_SUFFIX = ".crc";

    private StoreScan() {}

    static boolean isDataFile(Path file) {
        String name = file.getFileName().toString();
        return name.length() == HEX_DIGITS && name.chars().allMatch(StoreScan::isLowerHex);
    }

    private static boolean isLowerHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    /** What a store holds when it opens: its objects and the bytes of their allocated blocks. */
    record Contents(List<ObjectId> objects, long usedBytes) {}

    /**
     * The objects and the bytes of their allocated blocks. Nothing in an object is durable before
     * its first sync, which forces the complete file, trailer included; so a data file shorter than
     * that is the leftover of a crash during creation and is removed. A trailer that cannot be read
     * otherwise counts as a full object (reads of it fail until it is repaired).
     */
    static Contents contents(Path objectsDirectory) throws IOException {
        List<ObjectId> objects = new ArrayList<>();
        long used = 0;
        try (DirectoryStream<Path> subdirectories = Files.newDirectoryStream(objectsDirectory)) {
            for (Path subdirectory : subdirectories) {
                used += scan(subdirectory, objects);
            }
        }
        return new Contents(objects, used);
    }

    /** Adds the objects in {@code subdirectory} to {@code objects}; answers their allocated bytes. */
    private static long scan(Path subdirectory, List<ObjectId> objects) throws IOException {
        boolean legacyFilesRemoved = removeLegacyChecksumFiles(subdirectory);
        long used = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(subdirectory, StoreScan::isDataFile)) {
            for (Path file : files) {
                if (Files.size(file) < ObjectTrailer.FILE_BYTES) {
                    log.warn("removing object {} whose data file is short (creation interrupted)", file);
                    Files.deleteIfExists(file);
                    continue;
                }
                used += allocatedBytes(file);
                objects.add(ObjectId.parseHex(file.getFileName().toString()));
            }
        }
        if (legacyFilesRemoved) {
            ObjectStore.forceDirectory(subdirectory);
        }
        return used;
    }

    /**
     * Moves every {@code <hex>.crc} of an earlier store into the trailer of its data file: the copy
     * is forced before the checksum file goes, so while a checksum file exists it is the truth, and
     * a crash in the middle leaves a checksum file the next open copies again. A checksum file
     * without its data file, or a short one, is the leftover of an interrupted creation, as before.
     *
     * @return whether any file was removed (the directory must then be forced before the store is
     *     used, or a crash could bring back a checksum file older than the trailer)
     */
    private static boolean removeLegacyChecksumFiles(Path subdirectory) throws IOException {
        boolean removed = false;
        int moved = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(subdirectory, "*" + LEGACY_CHECKSUM_SUFFIX)) {
            for (Path checksumFile : files) {
                String name = checksumFile.getFileName().toString();
                Path dataFile = subdirectory.resolve(name.substring(0, name.length() - LEGACY_CHECKSUM_SUFFIX.length()));
                if (!isDataFile(dataFile)) {
                    continue; // not a file of this store
                }
                if (!Files.exists(dataFile)) {
                    log.warn("removing checksum file {} whose data file is missing (creation interrupted)",
                            checksumFile);
                } else if (Files.size(checksumFile) < ObjectTrailer.BYTES) {
                    log.warn("removing object {} whose checksum file is short (creation interrupted)", dataFile);
                    Files.deleteIfExists(dataFile);
                } else {
                    moveIntoTrailer(checksumFile, dataFile);
                    moved++;
                }
                Files.deleteIfExists(checksumFile);
                removed = true;
            }
        }
        if (moved > 0) {
            log.info("moved the checksums of {} objects in {} into their data files", moved, subdirectory);
        }
        return removed;
    }

    private static void moveIntoTrailer(Path checksumFile, Path dataFile) throws IOException {
        ByteBuffer trailer = ByteBuffer.wrap(Files.readAllBytes(checksumFile), 0, ObjectTrailer.BYTES).slice();
        try (FileChannel data = FileChannel.open(dataFile, StandardOpenOption.WRITE)) {
            data.truncate(ObjectTrailer.OFFSET); // anything past the data is a trailer copied before a crash
            while (trailer.hasRemaining()) {
                data.write(trailer, ObjectTrailer.OFFSET + trailer.position());
            }
            data.force(false);
        }
    }

    private static long allocatedBytes(Path dataFile) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(ObjectTrailer.CHECKSUMS_OFFSET);
        try (FileChannel channel = FileChannel.open(dataFile, StandardOpenOption.READ)) {
            while (header.hasRemaining() && channel.read(header, ObjectTrailer.OFFSET + header.position()) >= 0) {
                // reads the trailer's header and bitmap
            }
        }
        try {
            ObjectTrailer.checkHeader(header);
        } catch (ObjectTrailer.DamagedException e) {
            log.error("object {} is damaged ({}); the copy is replaced from another node's when it is next used", dataFile, e.getMessage());
            return ObjectId.OBJECT_SIZE_BYTES;
        }
        long[] words = new long[AllocationMap.WORDS];
        ObjectTrailer.decodeBitmap(header, words);
        return (long) AllocationMap.ofWords(words).allocatedBlocks() * BLOCK_SIZE_BYTES;
    }
}
