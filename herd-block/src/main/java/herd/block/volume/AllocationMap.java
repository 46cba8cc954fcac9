package herd.block.volume;

import herd.blockcore.ObjectId;
import java.util.Arrays;

/**
 * Which 4 KiB blocks of one object hold data. Blocks that do not read as zeros (on BLOCK_STATUS) and
 * the only blocks worth copying when an object moves between nodes. Immutable.
 */
public final class AllocationMap {
    /** The unit of allocation and of checksums. */
    public static final int BLOCK_SIZE_BYTES = 4096;
    public static final int BLOCKS_PER_OBJECT = ObjectId.OBJECT_SIZE_BYTES / BLOCK_SIZE_BYTES;
    /** Size of the map in 64-bit words (one bit per block). */
    public static final int WORDS = BLOCKS_PER_OBJECT / Long.SIZE;

    public static final AllocationMap EMPTY = new AllocationMap(new long[WORDS]);

    private final long[] words;

    private AllocationMap(long[] words) {
        this.words = words;
    }

    /** A map over a copy of the given words (bit i of word w is block w * 64 + i). */
    public static AllocationMap ofWords(long[] words) {
        if (words.length != WORDS) {
            throw new IllegalArgumentException("an allocation map has " + WORDS + " words, got " + words.length);
        }
        return new AllocationMap(words.clone());
    }

    public boolean isAllocated(int blockIndex) {
        return (words[blockIndex >>> 6] & (1L << (blockIndex & 63))) != 0;
    }

    public int allocatedBlocks() {
        int count = 0;
        for (long word : words) {
            count += Long.bitCount(word);
        }
        return count;
    }

    public boolean isEmpty() {
        return allocatedBlocks() == 0;
    }

    public long[] toWords() {
        return words.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AllocationMap map && Arrays.equals(words, map.words);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        return "AllocationMap[" + allocatedBlocks() + " of " + BLOCKS_PER_OBJECT + " blocks]";
    }
}
