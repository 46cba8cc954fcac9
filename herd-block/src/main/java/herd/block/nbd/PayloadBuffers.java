package herd.block.nbd;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Buffers for payloads, kept for reuse by every connection of a server. A new 1 MiB array costs a
 * 1 MiB memset, and a heap buffer costs a copy through a temporary direct buffer at every file and
 * socket read or write: payloads therefore live in reused direct buffers, which go from socket to
 * file (writes) and file to socket (reads) with no copy through a temporary buffer. Payloads of a
 * block (4 KiB) or more use them.
 *
 * <p>Sizes round up to a power of two. At most {@link #DIRECT_BYTES_MAX} of direct memory exists at
 * once (in use or waiting for reuse); a payload that would need more gets a heap buffer, so a burst
 * of connections never exhausts the JVM's direct memory.
 *
 * <p>The buffer given back last is taken first (a stack, not a queue): its bytes were touched most
 * recently and are the likeliest still to be in the CPU's caches when the next request's socket read
 * or file read writes into it. Taken in turn, the 32 buffers of a busy 1 MiB stream would each have
 * left the caches by the time they came round again.
 */
final class PayloadBuffers {
    /** Smaller payloads go in a new heap array: they are not whole blocks anyway. */
    static final int POOLED_MIN_BYTES = 4 * 1024;
    static final long DIRECT_BYTES_MAX = 32L << 20;

    private final Map<Integer, ConcurrentLinkedDeque<ByteBuffer>> freeDirect = new ConcurrentHashMap<>();
    private final AtomicLong directBytes = new AtomicLong();

    /** Whether a payload of {@code length} bytes goes in a buffer from {@link #take}. */
    static boolean pooled(long length) {
        return length >= POOLED_MIN_BYTES && length <= NbdProtocol.MAX_PAYLOAD_BYTES;
    }

    /** A buffer of exactly {@code length} bytes (position 0): direct when the budget allows, else on the heap. */
    ByteBuffer take(int length) {
        int size = sizeClass(length);
        ByteBuffer buffer = freeDirect.computeIfAbsent(size, s -> new ConcurrentLinkedDeque<>()).pollFirst();
        if (buffer == null) {
            if (directBytes.addAndGet(size) > DIRECT_BYTES_MAX) {
                directBytes.addAndGet(-size);
                return ByteBuffer.allocate(length);
            }
            buffer = ByteBuffer.allocateDirect(size);
        }
        return buffer.clear().limit(length);
    }

    /** Takes back a buffer from {@link #take}; heap buffers are left to the collector. */
    void giveBack(ByteBuffer buffer) {
        if (buffer.isDirect()) {
            freeDirect.get(buffer.capacity()).addFirst(buffer);
        }
    }

    /** Direct memory taken and not given back (for tests: it is zero when no request holds a buffer). */
    long directBytesInUse() {
        long free = 0;
        for (Map.Entry<Integer, ConcurrentLinkedDeque<ByteBuffer>> sizeClass : freeDirect.entrySet()) {
            free += (long) sizeClass.getKey() * sizeClass.getValue().size();
        }
        return directBytes.get() - free;
    }

    private static int sizeClass(int length) {
        return Math.max(POOLED_MIN_BYTES, Integer.highestOneBit(length - 1) << 1);
    }
}
