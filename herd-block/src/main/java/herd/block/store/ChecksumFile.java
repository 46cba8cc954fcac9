package herd.block.store;

import herd.block.volume.AllocationMap;
import java.nio.ByteBuffer;

/**
 * The layout of an object's checksum file ({@code <hex>.crc}), pure encoding and decoding.
 *
 * <pre>
 *   0   int   magic "HRDC"
 *   4   int   layout version (1)
 *   8   128 B allocation bitmap: bit b of long w (big-endian) is block w * 64 + b
 *   136 4 KiB CRC32C of each 4 KiB block (big-endian int), meaningful where the bit is set
 * </pre>
 *
 * A separate file rather than a header inside the data file keeps the data file a plain sparse
 * image of the object (offset in file = offset in object), so reads and writes need no translation
 * and tools can inspect it.
 */
final class ChecksumFile {
    private ChecksumFile() {}

    static final int MAGIC = 0x48524443;
    static final int VERSION = 1;
    static final int BITMAP_OFFSET = 8;
    static final int BITMAP_BYTES = AllocationMap.WORDS * Long.BYTES;
    static final int CHECKSUMS_OFFSET = BITMAP_OFFSET + BITMAP_BYTES;
    static final int FILE_BYTES = CHECKSUMS_OFFSET + AllocationMap.BLOCKS_PER_OBJECT * Integer.BYTES;

    /** The checksum file of an object with no blocks. */
    static ByteBuffer empty() {
        ByteBuffer file = ByteBuffer.allocate(FILE_BYTES);
        file.putInt(0, MAGIC).putInt(4, VERSION);
        return file;
    }

    /** Thrown for a file this layout cannot read; the caller turns it into an I/O failure value. */
    static final class DamagedException extends Exception {
        DamagedException(String message) {
            super(message);
        }
    }

    /** Fills the allocation words and block checksums from a whole file. */
    static void decode(ByteBuffer file, long[] allocationWords, int[] blockChecksums) throws DamagedException {
        if (file.limit() != FILE_BYTES) {
            throw new DamagedException("checksum file has " + file.limit() + " bytes, expected " + FILE_BYTES);
        }
        if (file.getInt(0) != MAGIC || file.getInt(4) != VERSION) {
            throw new DamagedException("checksum file has an unknown header " + Integer.toHexString(file.getInt(0))
                    + "/" + file.getInt(4));
        }
        decodeBitmap(file, allocationWords);
        for (int block = 0; block < blockChecksums.length; block++) {
            blockChecksums[block] = file.getInt(CHECKSUMS_OFFSET + block * Integer.BYTES);
        }
    }

    /** Reads the bitmap of a whole file (or of its first {@code CHECKSUMS_OFFSET} bytes). */
    static void decodeBitmap(ByteBuffer file, long[] allocationWords) {
        for (int word = 0; word < allocationWords.length; word++) {
            allocationWords[word] = file.getLong(BITMAP_OFFSET + word * Long.BYTES);
        }
    }

    static ByteBuffer encodeBitmap(long[] allocationWords) {
        ByteBuffer bitmap = ByteBuffer.allocate(BITMAP_BYTES);
        for (int word = 0; word < allocationWords.length; word++) {
            bitmap.putLong(word * Long.BYTES, allocationWords[word]);
        }
        return bitmap;
    }

    /** The checksums of blocks [fromBlock, toBlock), to be written at {@link #checksumsPosition}. */
    static ByteBuffer encodeChecksums(int[] blockChecksums, int fromBlock, int toBlock) {
        ByteBuffer checksums = ByteBuffer.allocate((toBlock - fromBlock) * Integer.BYTES);
        for (int block = fromBlock; block < toBlock; block++) {
            checksums.putInt((block - fromBlock) * Integer.BYTES, blockChecksums[block]);
        }
        return checksums;
    }

    static long checksumsPosition(int fromBlock) {
        return CHECKSUMS_OFFSET + (long) fromBlock * Integer.BYTES;
    }
}
