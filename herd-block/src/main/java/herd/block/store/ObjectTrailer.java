package herd.block.store;

import herd.block.volume.AllocationMap;
import herd.blockcore.ObjectId;
import java.nio.ByteBuffer;

/**
 * The layout of an object's data file, pure encoding and decoding: the object's 4 MiB (offset in
 * file = offset in object, blocks never written are holes) followed by a trailer with the
 * allocation bitmap and the block checksums.
 *
 * <pre>
 *   0           4 MiB  the object's data
 *   4 MiB + 0   int    magic "HRD2" (layout 2), or "HRDC" (layout 1, written by earlier builds)
 *   4 MiB + 4   int    layout 2: CRC32C of the allocation bitmap; layout 1: the layout's version, 1
 *   4 MiB + 8   128 B  allocation bitmap: bit b of long w (big-endian) is block w * 64 + b
 *   4 MiB + 136 4 KiB  CRC32C of each 4 KiB block (big-endian int), meaningful where the bit is set
 * </pre>
 *
 * Data and checksums in one file make a flush one {@code fdatasync}; putting the checksums after
 * the data rather than before keeps offsets in the file equal to offsets in the object, so reads
 * and writes need no translation and tools can inspect an object's data as it is.
 *
 * <p>The bitmap has a checksum of its own because a bit that damage clears would otherwise make its
 * block read as zeros, which no block checksum catches (it is meaningful only where the bit is set).
 * The magic, that checksum and the bitmap are written together, in one write within the first
 * sector of the trailer. Layout 1 trailers are read as before, unchecked, and become layout 2 the
 * next time their bitmap is written.
 *
 * <p>Earlier stores kept the trailer's bytes, unchanged, in a sidecar file {@code <hex>.crc};
 * {@link StoreScan} moves them into the data file.
 */
final class ObjectTrailer {
    private ObjectTrailer() {}

    /** "HRD2": the bitmap's checksum follows. */
    static final int MAGIC = 0x48524432;
    /** "HRDC", followed by {@link #LEGACY_VERSION}: earlier builds' layout, without the bitmap's checksum. */
    static final int LEGACY_MAGIC = 0x48524443;
    static final int LEGACY_VERSION = 1;
    /** The part of the trailer written when the allocation changes: magic, bitmap checksum, bitmap. */
    static final int HEAD_BYTES = 8 + AllocationMap.WORDS * Long.BYTES;
    /** Where the trailer starts in the data file: right after the object's data. */
    static final long OFFSET = ObjectId.OBJECT_SIZE_BYTES;
    static final int BITMAP_OFFSET = 8;
    static final int BITMAP_BYTES = AllocationMap.WORDS * Long.BYTES;
    static final int CHECKSUMS_OFFSET = BITMAP_OFFSET + BITMAP_BYTES;
    static final int BYTES = CHECKSUMS_OFFSET + AllocationMap.BLOCKS_PER_OBJECT * Integer.BYTES;
    /** The length of a complete data file. */
    static final long FILE_BYTES = OFFSET + BYTES;

    /** The trailer of an object with no blocks. */
    static ByteBuffer empty() {
        ByteBuffer trailer = ByteBuffer.allocate(BYTES);
        trailer.put(0, encodeHead(new long[AllocationMap.WORDS]), 0, HEAD_BYTES);
        return trailer;
    }

    /** Thrown for a trailer this layout cannot read; the caller turns it into an I/O failure value. */
    static final class DamagedException extends Exception {
        DamagedException(String message) {
            super(message);
        }
    }

    /** Fills the allocation words and block checksums from a whole trailer. */
    static void decode(ByteBuffer trailer, long[] allocationWords, int[] blockChecksums) throws DamagedException {
        if (trailer.limit() != BYTES) {
            throw new DamagedException("object trailer has " + trailer.limit() + " bytes, expected " + BYTES);
        }
        checkHeader(trailer);
        decodeBitmap(trailer, allocationWords);
        for (int block = 0; block < blockChecksums.length; block++) {
            blockChecksums[block] = trailer.getInt(CHECKSUMS_OFFSET + block * Integer.BYTES);
        }
    }

    /**
     * Checks the head of a trailer (a whole one, or its first {@link #HEAD_BYTES}): its magic and, in
     * layout 2, the bitmap against its checksum.
     */
    static void checkHeader(ByteBuffer trailer) throws DamagedException {
        int magic = trailer.getInt(0);
        if (magic == LEGACY_MAGIC && trailer.getInt(4) == LEGACY_VERSION) {
            return;
        }
        if (magic != MAGIC) {
            throw new DamagedException("object trailer has an unknown header " + Integer.toHexString(magic)
                    + "/" + trailer.getInt(4));
        }
        int expected = trailer.getInt(4);
        int actual = bitmapChecksum(trailer);
        if (actual != expected) {
            throw new DamagedException("object trailer's allocation bitmap fails its checksum (CRC32C "
                    + Integer.toHexString(actual) + ", recorded " + Integer.toHexString(expected) + ")");
        }
    }

    private static int bitmapChecksum(ByteBuffer head) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(head.slice(BITMAP_OFFSET, BITMAP_BYTES));
        return (int) crc.getValue();
    }

    /** Reads the bitmap of a whole trailer (or of its first {@code CHECKSUMS_OFFSET} bytes). */
    static void decodeBitmap(ByteBuffer trailer, long[] allocationWords) {
        for (int word = 0; word < allocationWords.length; word++) {
            allocationWords[word] = trailer.getLong(BITMAP_OFFSET + word * Long.BYTES);
        }
    }

    /** The magic, the bitmap's checksum and the bitmap: what is written, at {@link #OFFSET}, when the allocation changes. */
    static ByteBuffer encodeHead(long[] allocationWords) {
        ByteBuffer head = ByteBuffer.allocate(HEAD_BYTES);
        for (int word = 0; word < allocationWords.length; word++) {
            head.putLong(BITMAP_OFFSET + word * Long.BYTES, allocationWords[word]);
        }
        head.putInt(0, MAGIC).putInt(4, bitmapChecksum(head));
        return head;
    }

    /** The checksums of blocks [fromBlock, toBlock), to be written at {@link #checksumsPosition}. */
    static ByteBuffer encodeChecksums(int[] blockChecksums, int fromBlock, int toBlock) {
        ByteBuffer checksums = ByteBuffer.allocate((toBlock - fromBlock) * Integer.BYTES);
        for (int block = fromBlock; block < toBlock; block++) {
            checksums.putInt((block - fromBlock) * Integer.BYTES, blockChecksums[block]);
        }
        return checksums;
    }

    /** The position in the data file of the checksum of {@code fromBlock}. */
    static long checksumsPosition(int fromBlock) {
        return OFFSET + CHECKSUMS_OFFSET + (long) fromBlock * Integer.BYTES;
    }
}
