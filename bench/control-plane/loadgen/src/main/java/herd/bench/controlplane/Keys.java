package herd.bench.controlplane;

import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/** The benchmark's keys and values: 8-byte ASCII keys, one random value of a fixed size per run. */
final class Keys {

    static final int KEY_BYTES = 8;

    private Keys() {
    }

    /** Sequential put keys "00000000", "00000001", ...: 8 decimal digits. */
    static String sequential(AtomicLong counter) {
        long n = counter.getAndIncrement();
        if (n >= 100_000_000L) {
            throw new IllegalStateException("ran out of 8-digit sequential keys after 10^8 puts; shorten the run");
        }
        return String.format("%08d", n);
    }

    /** Preloaded read keys "r0000000" ... : 8 bytes, never colliding with the sequential put keys. */
    static String readKey(int index) {
        return String.format("r%07d", index);
    }

    static byte[] randomValue(int sizeBytes, long seed) {
        byte[] value = new byte[sizeBytes];
        new Random(seed).nextBytes(value);
        return value;
    }
}
