package herd.server.storage;

import herd.block.Done;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The calling end of the {@link ObjectChannel}: blocking calls on pooled connections, one call per
 * connection at a time. Connections stay blocking with no read timeout (a timed read would switch
 * the socket to non-blocking mode and cost a poll per wait); instead a watchdog closes the connection
 * of a call that passed its deadline, which ends the call with an {@link IOException}.
 *
 * <p>An {@link IOException} means the node could not be reached or did not answer in time ({@link
 * NoAnswer}); the caller decides what that means (a "retry"). Answers of the node come back as {@link CopyReply}.
 */
final class ObjectChannelClient implements AutoCloseable {
    private static final long WATCHDOG_PERIOD_MILLIS = 200;
    /**
     * How long a reply read after its call's deadline may still take. A caller that sent to several
     * nodes reads their replies one after the other: a reply that came in time while it waited for
     * another node's is already there, and is read instead of being counted as no answer.
     */
    static final long LATE_RECEIVE_GRACE_MILLIS = 500;
    /**
     * A call of a storage epoch that has ended is ended once it has taken this long: its node was
     * most likely taken out of the epoch for not answering (it was lost, stopped or cut off), and
     * waiting out the whole call timeout would only delay the change's repeat in the new epoch.
     * Calls that answer at all answer well within it.
     */
    static final long ENDED_EPOCH_GRACE_MILLIS = 1000;

    private final ByteBuffer hello;
    private final long connectTimeoutNanos;
    private final long callTimeoutNanos;
    private final int idlePerNode;
    /** Idle connections by node address, the most recently used first, at most {@code idlePerNode} each. */
    private final Map<InetSocketAddress, BlockingDeque<Connection>> idle = new ConcurrentHashMap<>();
    private final Set<Connection> busy = ConcurrentHashMap.newKeySet();
    /** Calls naming an epoch below this are of an epoch that has ended (0: none known to have ended). */
    private volatile long epochsEndedBefore;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
        runnable -> Thread.ofPlatform().daemon().name("herd-objects-watchdog").unstarted(runnable));

    /**
     * @param connectTimeout how long a new connection, with its hello, may take
     * @param callTimeout    how long a call may take from sending its request to reading its reply
     */
    ObjectChannelClient(String nodeToken, Duration connectTimeout, Duration callTimeout, int idlePerNode) {
        this.hello = ObjectChannel.hello(nodeToken);
        this.connectTimeoutNanos = connectTimeout.toNanos();
        this.callTimeoutNanos = callTimeout.toNanos();
        this.idlePerNode = idlePerNode;
        watchdog.scheduleWithFixedDelay(this::closeOverdue, WATCHDOG_PERIOD_MILLIS, WATCHDOG_PERIOD_MILLIS,
            TimeUnit.MILLISECONDS);
    }

    /** Reads {@code into.remaining()} bytes of the node's copy into {@code into}, advancing its position. */
    CopyReply<Done> read(InetSocketAddress address, String node, long epoch, ObjectId id, int offset, ByteBuffer into)
            throws IOException {
        return receive(send(address, node, new Request(ObjectChannel.OP_READ, epoch, id, offset, into.remaining(), null,
            into)));
    }

    /** Sends a write; {@link #receive} waits for its reply, so the caller can do other work meanwhile. */
    Sent sendWrite(InetSocketAddress address, String node, long epoch, ObjectId id, int offset, ByteBuffer source)
            throws IOException {
        return send(address, node, new Request(ObjectChannel.OP_WRITE, epoch, id, offset, source.remaining(), source, null));
    }

    CopyReply<Done> flush(InetSocketAddress address, String node, List<ObjectId> ids) throws IOException {
        for (int from = 0; from < ids.size(); from += ObjectChannel.MAX_FLUSH_IDS) {
            CopyReply<Done> reply = receive(sendFlush(address, node,
                ids.subList(from, Math.min(ids.size(), from + ObjectChannel.MAX_FLUSH_IDS))));
            if (!(reply instanceof CopyReply.Ok<Done>)) {
                return reply;
            }
        }
        return new CopyReply.Ok<>(Done.DONE);
    }

    /** A flush of no object: a round trip to the node's channel server that touches no disk. */
    CopyReply<Done> ping(InetSocketAddress address, String node) throws IOException {
        return receive(sendFlush(address, node, List.of()));
    }

    /** Sends a flush of at most {@link ObjectChannel#MAX_FLUSH_IDS} objects; {@link #receive} waits for its reply. */
    Sent sendFlush(InetSocketAddress address, String node, List<ObjectId> ids) throws IOException {
        if (ids.size() > ObjectChannel.MAX_FLUSH_IDS) {
            throw new IllegalArgumentException("a flush of " + ids.size() + " objects: at most "
                + ObjectChannel.MAX_FLUSH_IDS + " at once");
        }
        ObjectId about = ids.isEmpty() ? new ObjectId(0) : ids.get(0);
        return send(address, node, new Request(ObjectChannel.OP_FLUSH, 0, about, 0, ids.size(), ObjectChannel.flushIds(ids),
            null));
    }

    /** One request as it goes out, again if need be: {@code body} is sent from a view, {@code into} takes a read's data. */
    private record Request(byte op, long epoch, ObjectId about, int offset, int length, ByteBuffer body, ByteBuffer into) {
        /** A flush names no object in its header: the ids are its body. */
        ObjectId headerId() {
            return op == ObjectChannel.OP_FLUSH ? new ObjectId(0) : about;
        }

        /** The storage epoch the call belongs to; 0 for a flush, which names none and outlives epochs. */
        long callEpoch() {
            return op == ObjectChannel.OP_FLUSH ? 0 : epoch;
        }
    }

    /** A request on its way: it holds its connection until {@link #receive} reads the reply. */
    final class Sent {
        private final InetSocketAddress address;
        private final String node;
        private final Request request;
        private Connection connection;
        private boolean pooled;

        private Sent(InetSocketAddress address, String node, Request request) {
            this.address = address;
            this.node = node;
            this.request = request;
        }
    }

    private Sent send(InetSocketAddress address, String node, Request request) throws IOException {
        Sent sent = new Sent(address, node, request);
        send(sent);
        return sent;
    }

    /**
     * Sends on an idle connection, or a new one. A pooled connection may have been closed by the
     * node since (it restarted): a request that fails on one is sent again on another, which is
     * safe because every operation here can be repeated.
     */
    private void send(Sent sent) throws IOException {
        while (true) {
            Connection connection = idleOf(sent.address).pollFirst();
            boolean pooled = connection != null;
            if (connection == null) {
                connection = connect(sent.address, sent.node, sent.request.about());
            }
            connection.startCall(callTimeoutNanos, sent.request.callEpoch());
            try {
                Request request = sent.request;
                connection.sendRequest(request.op(), request.epoch(), request.headerId(), request.offset(), request.length(),
                    request.body() == null ? null : request.body().duplicate());
                connection.sent();
                sent.connection = connection;
                sent.pooled = pooled;
                return;
            } catch (IOException e) {
                connection.close();
                if (!pooled || connection.timedOut) {
                    throw failure(sent.node, connection, e);
                }
            }
        }
    }

    /** Waits for the reply of a request sent, and gives its connection back for the next call. */
    CopyReply<Done> receive(Sent sent) throws IOException {
        while (true) {
            Connection connection = sent.connection;
            Request request = sent.request;
            try {
                ByteBuffer attempt = request.into() == null ? null : request.into().duplicate(); // a repeat starts afresh
                connection.awaitReply();
                CopyReply<Done> reply = connection.receiveReply(sent.node, request.about(), attempt);
                connection.endCall();
                giveBack(sent.address, connection);
                if (attempt != null && reply instanceof CopyReply.Ok<Done>) {
                    request.into().position(attempt.position());
                }
                return reply;
            } catch (IOException e) {
                connection.close();
                if (connection.timedOut) {
                    throw new NoAnswer("node " + sent.node + " " + connection.overdue, e);
                }
                if (!sent.pooled) {
                    throw e;
                }
                send(sent);
            }
        }
    }

    /**
     * A request was sent whole and its reply did not come in time. The node may still be working on
     * it, so a change may still land there later. (A connection the node ended is not this: the node's
     * process closed it, dying or stopping, and the requests it had end with it.)
     */
    static final class NoAnswer extends IOException {
        NoAnswer(String message, IOException cause) {
            super(message, cause);
        }
    }

    /** Storage epoch {@code epoch} began: calls of earlier epochs are ended once they have taken a while. */
    void epochBegan(long epoch) {
        if (epoch > epochsEndedBefore) {
            epochsEndedBefore = epoch;
        }
    }

    private IOException failure(String node, Connection connection, IOException cause) {
        return connection.timedOut ? new IOException("node " + node + " " + connection.overdue
            + " (the request was not sent whole)", cause) : cause;
    }

    private Connection connect(InetSocketAddress address, String node, ObjectId about) throws IOException {
        Connection connection = new Connection(SocketChannel.open());
        try {
            connection.startCall(connectTimeoutNanos, 0);
            connection.channel.connect(address);
            connection.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            connection.channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            ObjectChannel.writeFully(connection.channel, hello.duplicate());
            CopyReply<Done> welcome = connection.receiveReply(node, about, null);
            if (!(welcome instanceof CopyReply.Ok<Done>)) {
                throw new IOException("node " + node + " refused the object channel: " + welcome);
            }
            connection.endCall();
            return connection;
        } catch (IOException e) {
            connection.close();
            throw connection.timedOut ? new IOException("node " + node + " did not take a connection within "
                + Duration.ofNanos(connectTimeoutNanos).toMillis() + " ms", e) : e;
        } catch (RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private BlockingDeque<Connection> idleOf(InetSocketAddress address) {
        return idle.computeIfAbsent(address, a -> new LinkedBlockingDeque<>(idlePerNode));
    }

    private void giveBack(InetSocketAddress address, Connection connection) {
        if (connection.nonBlocking || !idleOf(address).offerFirst(connection)) {
            connection.close(); // a virtual thread's connection, or enough idle ones already
        }
    }

    /** Idle connections kept for a node, for tests. */
    int idleConnections(InetSocketAddress address) {
        return idleOf(address).size();
    }

    private void closeOverdue() {
        long now = System.nanoTime();
        long endedBefore = epochsEndedBefore;
        for (Connection connection : busy) {
            long deadline = connection.deadline;
            boolean pastDeadline = deadline != 0 && now - deadline > 0;
            boolean ofAnEndedEpoch = connection.epoch != 0 && connection.epoch < endedBefore
                && now - connection.startNanos > TimeUnit.MILLISECONDS.toNanos(ENDED_EPOCH_GRACE_MILLIS);
            if (pastDeadline || ofAnEndedEpoch) {
                connection.overdue = pastDeadline ? "did not answer within " + Duration.ofNanos(callTimeoutNanos).toMillis()
                    + " ms" : "had not answered a call of storage epoch " + connection.epoch + " "
                    + TimeUnit.NANOSECONDS.toMillis(now - connection.startNanos) + " ms after it was made, and that epoch "
                    + "has ended";
                connection.timedOut = true;
                connection.close();
            }
        }
    }

    /** Closes the idle connections to a node (it went away, or moved to another port). */
    void forget(InetSocketAddress address) {
        BlockingDeque<Connection> pool = idle.remove(address);
        if (pool != null) {
            pool.forEach(Connection::close);
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        idle.values().forEach(pool -> pool.forEach(Connection::close));
        idle.clear();
        busy.forEach(Connection::close);
    }

    /** One connection to a node, with its buffers. */
    private final class Connection {
        final SocketChannel channel;
        final ByteBuffer header = ByteBuffer.allocateDirect(Math.max(ObjectChannel.REQUEST_HEADER_BYTES,
            ObjectChannel.REPLY_HEADER_BYTES));
        /**
         * When the watchdog ends the call in progress (System.nanoTime()): 0 between calls, and while
         * the request is sent and its caller is not waiting for the reply yet.
         */
        volatile long deadline;
        /** When the call in progress must have ended. */
        private long callDeadline;
        /** When the call in progress began, and the storage epoch it names (0: none, as a flush). */
        volatile long startNanos;
        volatile long epoch;
        /** Why the watchdog ended the call, when it did. */
        volatile String overdue;
        volatile boolean timedOut;
        /**
         * A virtual thread used it, which switched its socket to non-blocking mode for good (the JDK
         * does so to park the thread instead of its carrier): it is not pooled, so the platform
         * threads of the data path never pay a poll per wait on it.
         */
        volatile boolean nonBlocking;

        Connection(SocketChannel channel) {
            this.channel = channel;
        }

        void startCall(long timeoutNanos, long callEpoch) {
            nonBlocking |= Thread.currentThread().isVirtual();
            startNanos = System.nanoTime();
            epoch = callEpoch;
            callDeadline = startNanos + timeoutNanos;
            deadline = callDeadline;
            busy.add(this);
        }

        /** The request went out whole: until its caller waits for the reply, there is nothing to end. */
        void sent() {
            deadline = 0;
        }

        /** The caller waits for the reply now: until the call's deadline, or briefly if that passed. */
        void awaitReply() {
            long graceEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LATE_RECEIVE_GRACE_MILLIS);
            deadline = graceEnd - callDeadline > 0 ? graceEnd : callDeadline;
        }

        void endCall() {
            busy.remove(this);
            deadline = 0;
        }

        void sendRequest(byte op, long epoch, ObjectId id, int offset, int length, ByteBuffer body) throws IOException {
            ObjectChannel.putRequest(header, op, epoch, id, offset, length);
            if (body == null) {
                ObjectChannel.writeFully(channel, header);
                return;
            }
            ByteBuffer[] parts = {header, body};
            while (header.hasRemaining() || body.hasRemaining()) {
                channel.write(parts);
            }
        }

        /** Reads one reply; a successful read's data goes into {@code into}, which must expect exactly that much. */
        CopyReply<Done> receiveReply(String node, ObjectId about, ByteBuffer into) throws IOException {
            header.clear().limit(ObjectChannel.REPLY_HEADER_BYTES);
            ObjectChannel.readFully(channel, header);
            header.flip();
            byte status = header.get();
            int bodyBytes = header.getInt();
            if (status == ObjectChannel.STATUS_OK) {
                int expected = into == null ? 0 : into.remaining();
                if (bodyBytes != expected) {
                    throw new IOException("node " + node + " answered with " + bodyBytes + " bytes where " + expected
                        + " were due: it speaks another object channel");
                }
                if (into != null) {
                    ObjectChannel.readFully(channel, into);
                }
                return new CopyReply.Ok<>(Done.DONE);
            }
            if (status != ObjectChannel.STATUS_ERROR || bodyBytes < 6 || bodyBytes > ObjectChannel.MAX_ERROR_BYTES) {
                throw new IOException("node " + node + " answered status " + status + " with " + bodyBytes
                    + " bytes: it speaks another object channel");
            }
            ByteBuffer body = ByteBuffer.allocate(bodyBytes);
            ObjectChannel.readFully(channel, body);
            ObjectWire.WireError error = ObjectChannel.readErrorBody(body.flip());
            return ObjectWire.decodeError(error.httpStatus(), Optional.of(error.kind()), error.message(), node, about);
        }

        void close() {
            busy.remove(this);
            try {
                channel.close();
            } catch (IOException e) {
                // closing is all that is left to do with it
            }
        }
    }
}
