package herd.block.nbd;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection's replies on their way to the client, written by the workers that served the
 * requests, in completion order (the protocol matches them by cookie).
 *
 * <p>Whichever worker holds the lock writes every reply queued, its own and those of workers that
 * found the lock taken and left: a worker with a small reply never sleeps waiting for another's
 * reply to leave (a 1 MiB reply blocks its writer until the client has read most of it). A reply
 * carrying more than {@value #QUICK_BYTES_MAX} bytes of data is the exception: its own worker waits
 * for the lock and writes it. That worker has just read the data from the file and checked it, so
 * the data is still in the caches of the core it ran on; handed to the lock's holder, it was
 * written from another core's, and each MiB of sequential reads cost the server more
 * (bench/results/storage-own-reply.md).
 *
 * <p>Replies may wait in the stream's buffer to leave together. A send of a few bytes costs the
 * server a system call and the client a wake-up, and for a client that keeps many small requests in
 * flight those were a large part of each request's cost. The buffer is sent as soon as no quick
 * request is left in service (nothing that could join it soon), or {@value #MAX_HELD_REPLIES}
 * replies wait (the client gets part of its queue back while the server works on the rest: holding
 * every reply until the last made client and server take turns), or the oldest has waited the
 * longest hold (a request that turned out slow, such as a read from the disk, does not hold up the
 * others beyond that). Quick requests are the small ones that need no sync: not FLUSH, not FUA, at
 * most {@value #QUICK_BYTES_MAX} bytes. So a client with one request in flight gets each reply at
 * once, and so does a stream of large requests.
 */
final class ReplyOutput {
    private static final Logger log = LoggerFactory.getLogger(ReplyOutput.class);

    /** Most replies held in the buffer at once; half the queue of a client keeping 32 in flight. */
    static final int MAX_HELD_REPLIES = 16;
    /** Longest a reply waits in the buffer for others to join it, by default. */
    static final Duration DEFAULT_MAX_HOLD = Duration.of(500, ChronoUnit.MICROS);
    /** Largest request that counts as quick: beyond this, a request's own work dwarfs a send. */
    static final int QUICK_BYTES_MAX = 64 * 1024;

    private final ChannelOutput channelOut;
    private final DataOutputStream out;
    private final String client;
    private final long maxHoldNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Reply> queued = new ConcurrentLinkedQueue<>();
    /** Quick requests being served and not yet answered (counted from when their worker starts on them). */
    private final AtomicInteger quickInService = new AtomicInteger();
    /** Replies in the stream's buffer, not yet sent. Written only by the lock's holder. */
    private volatile int held;
    /** When the oldest of the {@link #held} replies was buffered ({@link System#nanoTime}). */
    private volatile long heldSince;
    /** Sends held replies that waited too long while no completion came to send them; started when first needed. */
    private Thread flusher;
    private volatile boolean flusherIdle;
    private volatile boolean closed;

    /** A reply waiting to be written, and what to run once it is written (its request's buffers go back). */
    private record Reply(byte[] header, ByteBuffer data, Runnable written) {}

    /**
     * @param out the stream over {@code channelOut}
     * @param maxHold the longest a reply waits in the buffer for others to join it
     */
    ReplyOutput(ChannelOutput channelOut, DataOutputStream out, String client, Duration maxHold) {
        this.channelOut = channelOut;
        this.out = out;
        this.client = client;
        this.maxHoldNanos = maxHold.toNanos();
    }

    /** Whether replies may wait for this request: it is small and needs no sync, so it usually completes within microseconds. */
    static boolean isQuick(NbdRequest request) {
        return !request.syncs() && request.length() <= QUICK_BYTES_MAX;
    }

    /** A quick request is being served: replies may wait for it. Each call is matched by one {@link #ended}. */
    void started() {
        quickInService.incrementAndGet();
    }

    /**
     * Queues a request's reply, then writes the queue if no other worker is writing it; a reply with
     * more than {@value #QUICK_BYTES_MAX} bytes of data is written by this thread, which waits for
     * the lock (see the class comment).
     *
     * @param data the reply's data after its header, or null
     * @param written run once the reply has been written (or dropped with the connection)
     * @param quick whether the request was counted by {@link #started}
     */
    void send(byte[] header, ByteBuffer data, Runnable written, boolean quick) throws IOException {
        if (data != null && data.remaining() > QUICK_BYTES_MAX) {
            writeOwn(new Reply(header, data, written));
        } else {
            queued.add(new Reply(header, data, written));
        }
        ended(quick);
    }

    /**
     * Waits for the lock and writes a large reply from the thread that read its data, then the
     * replies queued meanwhile. If the connection fails, those are dropped as in {@link #writeQueued}.
     */
    private void writeOwn(Reply reply) throws IOException {
        lock.lock();
        try {
            try {
                out.write(reply.header());
                channelOut.writeData(reply.data());
            } catch (IOException e) {
                dropQueued();
                throw e;
            } finally {
                reply.written().run();
            }
            countHeld();
            writeQueued();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A request is done (its reply queued, or none coming): replies that waited for it may have to
     * leave now, so this writes what is due.
     */
    void ended(boolean quick) throws IOException {
        if (quick) {
            quickInService.decrementAndGet();
        }
        writeRounds();
    }

    /**
     * Writes the queue, and sends the buffer if its replies are due, unless another thread holds the
     * lock. After letting go of the lock the writer looks again: a reply queued, or a request ended,
     * while it still held the lock (by a worker that then found the lock taken) is seen by the next
     * round.
     */
    private void writeRounds() throws IOException {
        do {
            if (!lock.tryLock()) {
                return; // its holder writes the queue before it lets go, or looks again after
            }
            try {
                writeQueued();
            } finally {
                lock.unlock();
            }
        } while (!queued.isEmpty() || (held > 0 && heldAreDue()));
    }

    /**
     * Writes queued replies until none is left, then sends the buffer if its replies are due, or
     * leaves them for a later completion or the flusher. Data that does not fit in the stream's
     * buffer leaves at once with what is buffered, straight from its own buffer
     * ({@link ChannelOutput}). If the connection fails, the replies still queued are dropped (their
     * requests' buffers and budget given back): no later reply could reach the client either.
     */
    private void writeQueued() throws IOException {
        try {
            for (Reply reply = queued.poll(); reply != null; reply = queued.poll()) {
                try {
                    out.write(reply.header());
                    if (reply.data() != null) {
                        channelOut.writeData(reply.data());
                    }
                } finally {
                    reply.written().run();
                }
                countHeld();
            }
            if (held > 0) {
                if (heldAreDue()) {
                    out.flush();
                    held = 0;
                } else {
                    watchHeld();
                }
            }
        } catch (IOException e) {
            dropQueued();
            throw e;
        }
    }

    /** After a failed write: gives back what the queued replies hold; none of them can reach the client. */
    private void dropQueued() {
        held = 0;
        for (Reply reply = queued.poll(); reply != null; reply = queued.poll()) {
            reply.written().run();
        }
    }

    /** After a reply was written: what the buffer holds now (a reply too big for it sent the buffer along). */
    private void countHeld() {
        if (channelOut.isEmpty()) {
            held = 0;
            return;
        }
        if (held == 0) {
            heldSince = System.nanoTime(); // before held: the flusher reads held first
        }
        held = held + 1; // only the lock's holder writes it
    }

    private boolean heldAreDue() {
        return quickInService.get() == 0 || held >= MAX_HELD_REPLIES
                || System.nanoTime() - heldSince >= maxHoldNanos;
    }

    /** Makes sure the flusher will look at the held replies by their deadline. */
    private void watchHeld() {
        if (flusher == null) {
            flusher = Thread.ofPlatform().daemon().name("nbd-" + client + "-flush").start(this::flushOverdue);
        } else if (flusherIdle) {
            LockSupport.unpark(flusher);
        }
    }

    /**
     * The flusher's loop: sends held replies whose oldest has waited the longest hold,
     * which happens when the requests they wait for are slow (a read from the disk, a copy on
     * another node). Sleeps while nothing is held.
     */
    private void flushOverdue() {
        while (!closed) {
            if (held == 0) {
                flusherIdle = true; // set before looking again: a writer that holds replies then wakes this thread
                if (held == 0 && !closed) {
                    LockSupport.park(this);
                }
                flusherIdle = false;
                continue;
            }
            long untilDue = heldSince + maxHoldNanos - System.nanoTime();
            if (untilDue > 0) {
                LockSupport.parkNanos(this, untilDue);
                continue;
            }
            try {
                writeRounds(); // they are due now
            } catch (IOException e) {
                log.debug("NBD client {}: cannot send held replies: {}", client, e.toString());
                return;
            }
            // If the lock was taken its holder sends them; look again only after another wait.
            LockSupport.parkNanos(this, maxHoldNanos);
        }
    }

    /**
     * Called once no request is left in service, before the socket is closed: stops the flusher,
     * and sends anything still held (nothing should be: the last request to end sends the buffer).
     * Waits for a round of writing in progress, which may be sending the last replies.
     */
    void close() {
        closed = true;
        if (flusher != null) {
            LockSupport.unpark(flusher);
        }
        lock.lock();
        try {
            if (held > 0) {
                held = 0;
                out.flush();
            }
        } catch (IOException e) {
            log.debug("NBD client {}: cannot send the last replies: {}", client, e.toString());
        } finally {
            lock.unlock();
        }
    }
}
