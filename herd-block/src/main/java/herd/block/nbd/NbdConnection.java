package herd.block.nbd;

import herd.block.Done;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.ArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the handshake, then the transmission loop. Up to {@value #MAX_WORKERS}
 * platform threads take turns at the input: the one holding it reads a request, hands the input on
 * and serves what it read (as nbdkit does). A request never changes threads, so no wake-up stands
 * between reading and serving it, and a read that waits for the disk holds up only its own thread
 * (a virtual thread in a file read would hold one of the few carrier threads). A client that waits
 * for each reply and syncs is served by one thread that keeps the input, and one streaming large
 * reads by a pair that take turns ({@link Input#keepsInputFor}).
 * At most {@value #MAX_IN_FLIGHT_BYTES} bytes of payload are held at once. Replies are written
 * whole, in completion order, by whichever worker holds the reply lock, and small ones leave
 * together ({@link ReplyOutput}).
 */
final class NbdConnection {
    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);

    /**
     * Threads serving one connection, so requests served at once; qemu keeps up to 16 in flight,
     * nbdcopy 64. A replicated write waits a network round trip for its copies, so serving fewer
     * than the client sends caps its rate; threads beyond those a client keeps busy are never started.
     */
    static final int MAX_WORKERS = 64;
    /** Read and write payload held in memory per connection; at least one maximal request. */
    static final int MAX_IN_FLIGHT_BYTES = 128 * 1024 * 1024;
    /** Most extents in one BLOCK_STATUS reply; the client asks again for the rest. */
    static final int MAX_EXTENTS_PER_REPLY = 1024;
    private static final int STREAM_BUFFER_BYTES = 128 * 1024;
    private static final int DISCARD_CHUNK_BYTES = 64 * 1024;
    /**
     * A worker keeps the input only for a client that sent a FLUSH or a FUA write within its last
     * this many requests ({@link Input#keepsInputFor}).
     */
    static final int SYNCED_WITHIN_REQUESTS = 8;
    /**
     * A client that has sent this many large reads in a row (more than
     * {@value ReplyOutput#QUICK_BYTES_MAX} bytes each), as a copy or a backup streams a volume, is
     * served by {@value #STREAMING_WORKERS} workers ({@link Input#keepsInputFor}).
     */
    static final int STREAMING_AFTER_LARGE_READS = 8;
    /**
     * Workers serving a client that streams large reads: one writes a reply to the socket while
     * the other reads the next request and its data. Three served sequential reads at 0.97 of the
     * rate of two (docs/storage.md).
     */
    static final int STREAMING_WORKERS = 2;
    /**
     * A large read whose data came slower than this is slow; {@value #SLOW_READS_ENDING_STREAMING}
     * slow ones among the last {@value #STREAMING_AFTER_LARGE_READS} end the streaming. 1 GiB/s is
     * 1 MiB in 0.98 ms, where reading it from the page cache and checking it took about 0.17 ms of CPU
     * in a profile (docs/storage.md); a disk or another node's copy takes longer.
     */
    static final long STREAMED_READ_MIN_BYTES_PER_SECOND = 1L << 30;
    /**
     * Slow large reads among the last {@value #STREAMING_AFTER_LARGE_READS} that end the streaming: half
     * of them. A volume read from the disk through the kernel's readahead has an occasional slow read
     * (the readahead fell behind) among fast ones; ending the streaming at each started and retired
     * 25 to 50 threads a second in the benchmark's sequential reads (docs/storage.md).
     */
    static final int SLOW_READS_ENDING_STREAMING = STREAMING_AFTER_LARGE_READS / 2;

    private final SocketChannel socket;
    private final ExportResolver resolver;
    private final PayloadBuffers buffers;
    private final ScheduledExecutorService handshakeDeadlines;
    private final Duration handshakeTimeout;
    /** Set when the handshake deadline closed the socket. */
    private volatile boolean handshakeExpired;
    private final String client;
    private final Semaphore bytePermits = new Semaphore(MAX_IN_FLIGHT_BYTES);
    /** Requests read and not answered yet: their reply is not queued (and none ended without one). */
    private final AtomicInteger unanswered = new AtomicInteger();
    private ChannelOutput channelOut;
    private DataOutputStream out;
    private ReplyOutput replies;
    private NbdHandshake.Session session;
    private NbdRequests.Limits limits;
    private long requestsServed;

    /**
     * @param socket a TCP or Unix socket's channel, in blocking mode
     * @param client the client's name in logs and thread names
     * @param handshakeDeadlines closes the socket of a client that has not finished its handshake
     *     within {@code handshakeTimeout}
     */
    NbdConnection(SocketChannel socket, String client, ExportResolver resolver, PayloadBuffers buffers,
            ScheduledExecutorService handshakeDeadlines, Duration handshakeTimeout) {
        this.socket = socket;
        this.resolver = resolver;
        this.buffers = buffers;
        this.handshakeDeadlines = handshakeDeadlines;
        this.handshakeTimeout = handshakeTimeout;
        this.client = client;
    }

    void run() {
        String ending = "client disconnected";
        try (socket) {
            if (socket.supportedOptions().contains(StandardSocketOptions.TCP_NODELAY)) {
                socket.setOption(StandardSocketOptions.TCP_NODELAY, true); // replies leave when written
            }
            ChannelInput raw = new ChannelInput(socket, STREAM_BUFFER_BYTES, NbdRequest.HEADER_BYTES);
            DataInputStream in = new DataInputStream(raw);
            channelOut = new ChannelOutput(socket, STREAM_BUFFER_BYTES);
            out = new DataOutputStream(channelOut);
            Optional<NbdHandshake.Session> negotiated = negotiateInTime(in);
            if (negotiated.isEmpty()) {
                return;
            }
            session = negotiated.get();
            limits = new NbdRequests.Limits(session.device().sizeBytes(), session.device().readOnly(),
                    session.blockStatus());
            log.info("NBD client {} attached to export '{}' ({} bytes{}{}{})", client, session.exportName(),
                    session.device().sizeBytes(), session.device().readOnly() ? ", read-only" : "",
                    session.structuredReplies() ? ", structured replies" : "",
                    session.blockStatus() ? ", base:allocation" : "");
            ending = transmit(in, raw);
        } catch (NbdHandshake.ProtocolViolation e) {
            ending = "protocol violation: " + e.getMessage();
            log.warn("NBD client {} closed for a protocol violation: {}", client, e.getMessage());
        } catch (IOException e) {
            ending = handshakeExpired ? "handshake timed out" : "connection closed: " + e;
            if (handshakeExpired) {
                log.info("NBD client {} dropped: no handshake within {} ms", client, handshakeTimeout.toMillis());
            } else if (!(e instanceof EOFException || e instanceof SocketException
                    || e instanceof ClosedChannelException)) {
                log.warn("NBD client {}: {}", client, e.toString());
            }
        } finally {
            log.debug("NBD client {} gone after {} requests ({})", client, requestsServed, ending);
        }
    }

    /** The handshake, cut short by closing the socket if it does not end within the timeout. */
    private Optional<NbdHandshake.Session> negotiateInTime(DataInputStream in)
            throws IOException, NbdHandshake.ProtocolViolation {
        ScheduledFuture<?> deadline = handshakeDeadlines.schedule(this::expireHandshake,
                handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            return new NbdHandshake(in, out, resolver, client).negotiate();
        } finally {
            deadline.cancel(false);
        }
    }

    private void expireHandshake() {
        handshakeExpired = true;
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("NBD client {}: closing after the handshake timeout: {}", client, e.toString());
        }
    }

    /**
     * Serves requests until DISC or end of stream; returns when every request read has been
     * answered. Starts with one worker; a worker that reads a request while no other waits for the
     * input starts another (up to {@value #MAX_WORKERS}), so a client with one request in flight
     * costs one thread.
     */
    private String transmit(DataInputStream in, ChannelInput raw) throws IOException, NbdHandshake.ProtocolViolation {
        Input input = new Input(in, raw);
        replies = new ReplyOutput(channelOut, out, client, ReplyOutput.DEFAULT_MAX_HOLD);
        startWorker(input);
        try {
            for (Thread worker = input.anyWorker(); worker != null; worker = input.anyWorker()) {
                worker.join();
                input.removeWorker(worker);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the requests in flight");
        } finally {
            replies.close();
        }
        return input.ending();
    }

    /** The connection's input, held by one worker at a time, and how the connection ended. */
    private static final class Input {
        final DataInputStream in;
        final ChannelInput raw;
        final ReentrantLock lock = new ReentrantLock();
        final byte[] header = new byte[NbdRequest.HEADER_BYTES];
        /** Requests read since the last FLUSH or FUA write (capped). Guarded by the lock. */
        private int readSinceSync = SYNCED_WITHIN_REQUESTS + 1;
        /** Large reads read in a row (capped), reset when too many of them were slow. Guarded by this. */
        private int largeReadsInARow;
        /** Which of the last large reads served were slow, the latest in the lowest bit. Guarded by this. */
        private int slowReadHistory;
        /** Whether the request read last came in a stream of large reads. Guarded by the lock. */
        private boolean streamingNow;
        /** The workers running, in the order they started; one stops when it retires or the input ends. Guarded by this. */
        private final List<Thread> workers = new ArrayList<>();
        /** Workers started so far, which names them. Guarded by this. */
        private int workersStarted;
        /** Why the input ended (null while it goes on); the other workers stop at their next turn. Guarded by the lock. */
        String ending;
        /** The error that ended it, if one did, for the connection to report. Guarded by the lock. */
        Exception failure;

        Input(DataInputStream in, ChannelInput raw) {
            this.in = in;
            this.raw = raw;
        }

        /** Registers a worker about to start and returns its number. */
        synchronized int addWorker(Thread worker) {
            workers.add(worker);
            return workersStarted++;
        }

        synchronized int workerCount() {
            return workers.size();
        }

        /** A running worker, or null when none is left. */
        synchronized Thread anyWorker() {
            return workers.isEmpty() ? null : workers.getFirst();
        }

        synchronized void removeWorker(Thread worker) {
            workers.remove(worker);
        }

        /**
         * Whether the worker that has just read {@code request} keeps the input while it serves it,
         * and then reads the next request itself, instead of handing the input to another worker.
         * <ul>
         * <li>It does when the client waits for each reply before it sends the next request (none
         * other is unanswered, none is waiting to be read) and syncs (a FLUSH or FUA write among its
         * last {@value NbdConnection#SYNCED_WITHIN_REQUESTS} requests), as a database committing does.
         * Handing the input on costs such a client a wake-up of another thread between each reply and
         * its next request, which then finds that thread cold: 4 KiB writes each followed by a flush
         * ran at 0.85 of nbdkit's rate that way. Other serial clients keep the handing on: for random
         * 4 KiB writes at queue depth 1 keeping the input was slower (docs/storage.md).</li>
         * <li>A client streaming large reads ({@value NbdConnection#STREAMING_AFTER_LARGE_READS} in a
         * row) while they are served fast, from this node's page cache, is served by a pair of
         * workers ({@value NbdConnection#STREAMING_WORKERS}) that take turns at the input, as
         * nbdkit's threads do: while one writes a reply to the socket, the other reads the next
         * request, the file, and checks the blocks. No worker beyond the pair is started, and those
         * running retire ({@link #retiresAfter}). Handed on to every worker, the input woke a thread
         * per request and the threads queued for the reply lock behind a writer blocked on a full
         * socket; served by one thread, the socket waited while it read the file; a worker that kept
         * the input while the other was busy cost more wake-ups than taking turns (docs/storage.md).
         * When half of the last large reads came slower than
         * {@value NbdConnection#STREAMED_READ_MIN_BYTES_PER_SECOND} bytes per second (a cold disk,
         * another node's copy), the streaming ends ({@link #retiresAfter}), so that such reads are
         * served in parallel again.</li>
         * </ul>
         * The cost of keeping: a request the client sends while the kept one is being served is read
         * when that one is done.
         */
        boolean keepsInputFor(NbdRequest request, int othersUnanswered) {
            readSinceSync = request.syncs() ? 0 : Math.min(readSinceSync + 1, SYNCED_WITHIN_REQUESTS + 1);
            streamingNow = streamsWith(request);
            if (streamingNow) {
                return false; // the pair takes turns
            }
            return othersUnanswered == 0 && readSinceSync <= SYNCED_WITHIN_REQUESTS && nothingWaiting();
        }

        /** Whether the request read last came in a stream of large reads, served by the pair; asked by the lock's holder. */
        boolean streaming() {
            return streamingNow;
        }

        /** Counts {@code request} into the run of large reads; whether the client is streaming them. */
        private synchronized boolean streamsWith(NbdRequest request) {
            largeReadsInARow = isLargeRead(request) ? Math.min(largeReadsInARow + 1, STREAMING_AFTER_LARGE_READS) : 0;
            return largeReadsInARow >= STREAMING_AFTER_LARGE_READS;
        }

        /**
         * Called by a worker that has served {@code request}, with how long the device took to give
         * its data; returns whether the worker stops, because the client is streaming and more than
         * {@value NbdConnection#STREAMING_WORKERS} workers are running (it is then no longer counted).
         * {@value NbdConnection#SLOW_READS_ENDING_STREAMING} slow large reads among the last
         * {@value NbdConnection#STREAMING_AFTER_LARGE_READS} end the streaming until another run of
         * them. Only the device's time counts: a reply waiting for the client to read means the client
         * is the bottleneck, and serving more at once would not help it.
         */
        synchronized boolean retiresAfter(NbdRequest request, long deviceNanos) {
            if (isLargeRead(request)) {
                boolean slow = deviceNanos > request.length() * 1_000_000_000L / STREAMED_READ_MIN_BYTES_PER_SECOND;
                slowReadHistory = ((slowReadHistory << 1) | (slow ? 1 : 0)) & ((1 << STREAMING_AFTER_LARGE_READS) - 1);
                if (Integer.bitCount(slowReadHistory) >= SLOW_READS_ENDING_STREAMING) {
                    largeReadsInARow = 0;
                    slowReadHistory = 0;
                }
            }
            if (largeReadsInARow < STREAMING_AFTER_LARGE_READS || workers.size() <= STREAMING_WORKERS) {
                return false;
            }
            workers.remove(Thread.currentThread());
            return true;
        }

        private static boolean isLargeRead(NbdRequest request) {
            return request.isRead() && request.length() > ReplyOutput.QUICK_BYTES_MAX;
        }

        private boolean nothingWaiting() {
            try {
                return raw.waiting() == 0;
            } catch (IOException e) {
                return false; // the next read meets the broken connection and ends it
            }
        }

        /** Called once every worker is done. */
        String ending() throws IOException, NbdHandshake.ProtocolViolation {
            return switch (failure) {
                case null -> ending;
                case IOException e -> throw e;
                case NbdHandshake.ProtocolViolation e -> throw e;
                default -> throw new IllegalStateException("unexpected failure", failure);
            };
        }
    }

    /** Called by {@link #transmit} before any worker runs, then only by the worker holding the input. */
    private void startWorker(Input input) {
        Thread worker = Thread.ofPlatform().daemon().unstarted(() -> work(input));
        worker.setName("nbd-" + client + "-" + input.addWorker(worker));
        worker.start();
    }

    /** A request read, with how many others of the connection were unanswered when it was. */
    private record Received(NbdRequest request, ByteBuffer payload, int payloadBudget, int othersUnanswered) {}

    private void work(Input input) {
        boolean keepingInput = false;
        while (true) {
            Received received;
            if (!keepingInput) {
                input.lock.lock();
            }
            try {
                received = input.ending == null ? receive(input) : null;
                keepingInput = received != null && input.keepsInputFor(received.request(), received.othersUnanswered());
                if (received != null && !keepingInput && !input.lock.hasQueuedThreads()
                        && input.workerCount() < (input.streaming() ? STREAMING_WORKERS : MAX_WORKERS)) {
                    startWorker(input); // it waits for the input while this one serves
                }
            } finally {
                if (!keepingInput) {
                    input.lock.unlock();
                }
            }
            if (received == null) {
                return;
            }
            try {
                long deviceNanos = serveAndRelease(received.request(), received.payload(), received.payloadBudget());
                if (input.retiresAfter(received.request(), deviceNanos)) {
                    if (keepingInput) {
                        input.lock.unlock(); // the pair goes on without this one
                    }
                    return;
                }
            } catch (RuntimeException | Error e) {
                if (keepingInput) {
                    input.lock.unlock(); // the other workers go on without this one
                }
                throw e;
            }
        }
    }

    /** Reads the next request; or records why there is none (DISC, end of stream, an error) and returns null. */
    private Received receive(Input input) {
        try {
            input.in.readFully(input.header);
            NbdRequest request;
            try {
                request = NbdRequest.parse(input.header);
            } catch (NbdRequest.BadMagicException e) {
                socket.close();
                throw new NbdHandshake.ProtocolViolation(e.getMessage());
            }
            if (request.type() == NbdProtocol.CMD_DISC) {
                input.ending = "client sent DISC";
                return null;
            }
            int payloadBudget = payloadBudget(request);
            acquire(payloadBudget);
            ByteBuffer payload = readPayload(input.in, input.raw, request);
            requestsServed++;
            return new Received(request, payload, payloadBudget, unanswered.getAndIncrement());
        } catch (IOException | NbdHandshake.ProtocolViolation e) {
            input.ending = e.toString();
            input.failure = e;
            return null;
        }
    }

    private static int payloadBudget(NbdRequest request) {
        boolean carriesPayload = request.isRead() || request.isWrite();
        return carriesPayload ? (int) Math.min(request.length(), NbdProtocol.MAX_PAYLOAD_BYTES) : 0;
    }

    private void acquire(int payloadBudget) throws IOException {
        try {
            bytePermits.acquire(payloadBudget);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for in-flight requests");
        }
    }

    /**
     * A write's data: one of a block or more in a reused buffer, read into it straight from the
     * socket's channel when it is direct; an oversized write's data is read and dropped (it is
     * answered EINVAL).
     */
    private ByteBuffer readPayload(DataInputStream in, ChannelInput raw, NbdRequest request) throws IOException {
        if (!request.isWrite()) {
            return null;
        }
        if (request.length() > NbdProtocol.MAX_PAYLOAD_BYTES) {
            byte[] discard = new byte[DISCARD_CHUNK_BYTES];
            for (long left = request.length(); left > 0; left -= discard.length) {
                in.readFully(discard, 0, (int) Math.min(left, discard.length));
            }
            return null;
        }
        int length = (int) request.length();
        if (!PayloadBuffers.pooled(length)) {
            byte[] payload = new byte[length];
            in.readFully(payload);
            return ByteBuffer.wrap(payload);
        }
        ByteBuffer payload = buffers.take(length);
        try {
            raw.readFully(payload.duplicate());
        } catch (IOException e) { // the client left mid-payload: no request will give the buffer back
            buffers.giveBack(payload);
            throw e;
        }
        return payload;
    }

    /** Serves a request and answers it; returns how long a read waited for the device's data (0 for others). */
    private long serveAndRelease(NbdRequest request, ByteBuffer payload, int payloadBudget) {
        Held held = new Held(payloadBudget, ReplyOutput.isQuick(request));
        if (held.quick) {
            replies.started();
        }
        try {
            serve(request, payload, held);
        } catch (IOException e) {
            log.debug("NBD client {}: cannot send reply: {}", client, e.toString());
        } catch (RuntimeException e) {
            // A bug must not kill the other requests; the client gets EIO and the log the stack.
            log.error("NBD client {}: {} failed", client, request.commandName(), e);
            if (!held.replyQueued) {
                sendQuietly(request, new DeviceError(Errno.EIO, "internal server error: " + e), held);
            }
        } finally {
            if (payload != null && PayloadBuffers.pooled(request.length())) {
                buffers.giveBack(payload); // the device is done with it: writes complete before they answer
            }
            if (!held.replyQueued) {
                unanswered.decrementAndGet();
                held.run(); // no reply will: none could be queued
                endWithoutReply(held);
            }
        }
        return held.deviceNanos;
    }

    /**
     * What a request holds until its reply has left: its share of the payload budget and a read's
     * data buffer. Whoever writes the reply gives them back, once.
     */
    private final class Held implements Runnable {
        private final int payloadBudget;
        /** Whether replies may wait for this request ({@link ReplyOutput#isQuick}). */
        private final boolean quick;
        private final AtomicBoolean released = new AtomicBoolean();
        /** A pooled buffer holding a read's data, set by the worker serving the read. */
        private ByteBuffer readBuffer;
        /** Set by {@link #write} once the reply is queued: from then on its writer releases this. */
        private volatile boolean replyQueued;
        /** How long a read waited for the device's data; set by the worker serving it. */
        private long deviceNanos;

        Held(int payloadBudget, boolean quick) {
            this.payloadBudget = payloadBudget;
            this.quick = quick;
        }

        @Override
        public void run() {
            if (released.compareAndSet(false, true)) {
                if (readBuffer != null) {
                    buffers.giveBack(readBuffer);
                }
                bytePermits.release(payloadBudget);
            }
        }
    }

    private void serve(NbdRequest request, ByteBuffer payload, Held held) throws IOException {
        Optional<DeviceError> invalid = NbdRequests.validate(request, limits);
        if (invalid.isPresent()) {
            sendError(request, invalid.get(), held);
            return;
        }
        BlockDevice device = session.device();
        boolean fua = request.hasFlag(NbdProtocol.CMD_FLAG_FUA);
        switch (request.type()) {
            case NbdProtocol.CMD_READ -> serveRead(request, device, held);
            case NbdProtocol.CMD_WRITE -> sendDone(request,
                    device.write(request.offset(), payload.duplicate(), fua), held);
            case NbdProtocol.CMD_FLUSH -> sendDone(request, device.flush(), held);
            case NbdProtocol.CMD_TRIM -> sendDone(request, device.trim(request.offset(), request.length(), fua), held);
            case NbdProtocol.CMD_WRITE_ZEROES -> sendDone(request, device.writeZeroes(request.offset(),
                    request.length(), request.hasFlag(NbdProtocol.CMD_FLAG_NO_HOLE), fua), held);
            case NbdProtocol.CMD_BLOCK_STATUS -> serveBlockStatus(request, device, held);
            default -> throw new IllegalStateException("validate let through " + request.commandName());
        }
    }

    /**
     * Reads into a reused (direct, when the budget allows) buffer and answers from it; reads below
     * a block into a new array. The buffer goes back when the reply has left ({@link Held}).
     */
    private void serveRead(NbdRequest request, BlockDevice device, Held held) throws IOException {
        int length = (int) request.length();
        boolean pooled = PayloadBuffers.pooled(length);
        ByteBuffer data = pooled ? buffers.take(length) : ByteBuffer.allocate(length);
        if (pooled) {
            held.readBuffer = data;
        }
        long readingSince = System.nanoTime();
        DeviceResult<Done> result = device.read(request.offset(), data.duplicate());
        held.deviceNanos = System.nanoTime() - readingSince;
        switch (result) {
            case DeviceResult.Ok<Done> ok -> sendData(request, data, held);
            case DeviceResult.Failed<Done>(DeviceError error) -> sendError(request, error, held);
        }
    }

    private void serveBlockStatus(NbdRequest request, BlockDevice device, Held held) throws IOException {
        int maxExtents = request.hasFlag(NbdProtocol.CMD_FLAG_REQ_ONE) ? 1 : MAX_EXTENTS_PER_REPLY;
        switch (device.blockStatus(request.offset(), request.length(), maxExtents)) {
            case DeviceResult.Ok<List<Extent>>(List<Extent> extents) -> write(NbdMessages.blockStatusChunk(
                    request.cookie(), NbdProtocol.BASE_ALLOCATION_CONTEXT_ID, extents), null, held);
            case DeviceResult.Failed<List<Extent>>(DeviceError error) -> sendError(request, error, held);
        }
    }

    // ---- replies

    /**
     * Answers a command that returns no data. Success gets a simple reply even when structured
     * replies were negotiated (the protocol requires them for reads only, and nbdkit and qemu do the
     * same): libnbd reads a simple reply's 16 bytes at once, but a structured reply in two reads, one
     * to find its magic and one for the rest of its header. Errors still get a structured reply,
     * which carries a message.
     */
    private void sendDone(NbdRequest request, DeviceResult<Done> result, Held held) throws IOException {
        switch (result) {
            case DeviceResult.Ok<Done> ok -> write(NbdMessages.simpleReplyHeader(0, request.cookie()), null, held);
            case DeviceResult.Failed<Done>(DeviceError error) -> sendError(request, error, held);
        }
    }

    private void sendData(NbdRequest request, ByteBuffer data, Held held) throws IOException {
        if (!session.structuredReplies()) {
            write(NbdMessages.simpleReplyHeader(0, request.cookie()), data, held);
        } else if (!data.hasRemaining()) {
            // An OFFSET_DATA chunk must carry at least one byte.
            write(finalNoneChunk(request), null, held);
        } else {
            write(NbdMessages.offsetDataHeader(request.cookie(), request.offset(), data.remaining()), data, held);
        }
    }

    private static byte[] finalNoneChunk(NbdRequest request) {
        return NbdMessages.chunkHeader(NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, request.cookie(), 0);
    }

    private void sendError(NbdRequest request, DeviceError error, Held held) throws IOException {
        log.debug("NBD client {}: {} at {}+{} failed: {} {}", client, request.commandName(), request.offset(),
                request.length(), error.errno(), error.message());
        if (session.structuredReplies()) {
            write(NbdMessages.errorChunk(request.cookie(), error), null, held);
        } else {
            write(NbdMessages.simpleReplyHeader(error.errno().code(), request.cookie()), null, held);
        }
    }

    private void sendQuietly(NbdRequest request, DeviceError error, Held held) {
        try {
            sendError(request, error, held);
        } catch (IOException | RuntimeException e) {
            log.debug("NBD client {}: cannot send error reply: {}", client, e.toString());
        }
    }

    /** Replies that waited for a request that gets none (its connection failed) may have to leave now. */
    private void endWithoutReply(Held held) {
        try {
            replies.ended(held.quick);
        } catch (IOException e) {
            log.debug("NBD client {}: cannot send held replies: {}", client, e.toString());
        }
    }

    private void write(byte[] header, ByteBuffer data, Held held) throws IOException {
        held.replyQueued = true;
        unanswered.decrementAndGet(); // before the reply can reach the client, which may then send its next request
        replies.send(header, data, held, held.quick);
    }
}
