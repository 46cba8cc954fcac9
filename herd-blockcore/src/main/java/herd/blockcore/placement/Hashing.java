package herd.blockcore.placement;

import java.nio.charset.StandardCharsets;

/**
 * The ring's stable 64-bit hash: FNV-1a over the key's bytes, then MurmurHash3's 64-bit finaliser.
 * FNV-1a alone is what Sheepdog uses, but for short keys that differ only in their last characters
 * ("node#1", "node#2") its high bits barely change, which clusters vnodes on the ring; the finaliser
 * spreads every input bit over the whole word. Both steps are fixed by their published constants, so
 * every node, every version and any other language computes the same ring.
 */
final class Hashing {
    private Hashing() {}

    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    static long hash(byte[] key) {
        long hash = FNV_OFFSET_BASIS;
        for (byte b : key) {
            hash ^= b & 0xFF;
            hash *= FNV_PRIME;
        }
        return finalise(hash);
    }

    /** The key of virtual node {@code vnodeIndex} of a node: "name#index" in UTF-8. */
    static long vnodeHash(String nodeName, int vnodeIndex) {
        return hash((nodeName + "#" + vnodeIndex).getBytes(StandardCharsets.UTF_8));
    }

    /** The key of an object: its 64-bit id, big-endian. */
    static long objectHash(long objectIdValue) {
        byte[] key = new byte[Long.BYTES];
        for (int i = 0; i < Long.BYTES; i++) {
            key[i] = (byte) (objectIdValue >>> (8 * (Long.BYTES - 1 - i)));
        }
        return hash(key);
    }

    private static long finalise(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
