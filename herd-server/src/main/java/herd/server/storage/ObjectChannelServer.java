package herd.server.storage;

import herd.block.Done;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving end of the {@link ObjectChannel}: one platform thread per connection, blocking on it.
 * Platform threads keep the socket in blocking mode (a virtual thread would switch it to non-blocking
 * for good, and every wait would cost an extra failed read and a poll). A caller holds a connection
 * only while it makes one call, so there are about as many as the callers' requests in flight.
 */
final class ObjectChannelServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ObjectChannelServer.class);
    /** Larger payloads (whole-object writes) go in a heap buffer made for them, so idle connections stay small. */
    static final int DIRECT_DATA_MAX = 1 << 20;
    /** A connection that has not said hello by then is closed, so strangers cannot hold threads here. */
    static final Duration HELLO_TIMEOUT = Duration.ofSeconds(10);

    /** What the channel serves: this node's copies, as {@link ObjectService} keeps them. */
    interface Copies {
        CopyReply<Done> read(long epoch, ObjectId id, int offset, ByteBuffer destination);

        CopyReply<Done> write(long epoch, ObjectId id, int offset, ByteBuffer source);

        CopyReply<Done> flush(Collection<ObjectId> ids);
    }

    private final Duration helloTimeout;
    private final String nodeName;
    private final Copies copies;
    private final byte[] nodeToken;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong requestsServed = new AtomicLong();
    private final ScheduledExecutorService helloDeadlines = Executors.newSingleThreadScheduledExecutor(
        runnable -> Thread.ofPlatform().daemon().name("herd-objects-hello").unstarted(runnable));
    private ServerSocketChannel listener;
    private Thread acceptor;
    private volatile boolean closed;

    ObjectChannelServer(String nodeName, Copies copies, String nodeToken) {
        this(nodeName, copies, nodeToken, HELLO_TIMEOUT);
    }

    ObjectChannelServer(String nodeName, Copies copies, String nodeToken, Duration helloTimeout) {
        this.helloTimeout = helloTimeout;
        this.nodeName = nodeName;
        this.copies = copies;
        this.nodeToken = nodeToken.getBytes(StandardCharsets.UTF_8);
    }

    void start(InetSocketAddress bind) throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(bind);
        acceptor = Thread.ofPlatform().daemon().name("herd-objects-accept").start(this::acceptLoop);
    }

    InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("the object channel is closed", e);
        }
    }

    /** Requests served since the node started, for {@code herd storage status}. */
    long requestsServed() {
        return requestsServed.get();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel connection;
            try {
                connection = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("{}: the object channel stops accepting: {}", nodeName, e.toString());
                }
                return;
            }
            connections.add(connection);
            Thread.ofPlatform().daemon().name("herd-objects-" + remote(connection)).start(() -> serve(connection));
        }
    }

    private void serve(SocketChannel connection) {
        try (connection) {
            connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
            connection.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            ScheduledFuture<?> deadline = helloDeadlines.schedule(() -> closeQuietly(connection),
                helloTimeout.toMillis(), TimeUnit.MILLISECONDS);
            boolean welcomed = welcomed(connection);
            deadline.cancel(false);
            if (welcomed && connection.isOpen()) {
                new Session(connection).run();
            }
        } catch (IOException e) {
            if (!closed) {
                log.debug("{}: object channel connection from {} ended: {}", nodeName, remote(connection), e.toString());
            }
        } catch (RuntimeException e) { // a bug: the caller sees the connection close and tries again later
            log.error("{}: object channel connection from {} failed", nodeName, remote(connection), e);
        } finally {
            connections.remove(connection);
        }
    }

    /** Reads the hello; a caller without this cluster's node token is told so and let go. */
    private boolean welcomed(SocketChannel connection) throws IOException {
        ByteBuffer start = ByteBuffer.allocate(12);
        ObjectChannel.readFully(connection, start);
        start.flip();
        String refusal = null;
        if (start.getLong() != ObjectChannel.HELLO_MAGIC) {
            refusal = "not an object channel hello";
        } else {
            int tokenBytes = start.getInt();
            if (tokenBytes < 0 || tokenBytes > ObjectChannel.MAX_TOKEN_BYTES) {
                refusal = "a node token of " + tokenBytes + " bytes";
            } else {
                ByteBuffer token = ByteBuffer.allocate(tokenBytes);
                ObjectChannel.readFully(connection, token);
                if (!MessageDigest.isEqual(token.array(), nodeToken)) {
                    refusal = "wrong node token: the caller is not a node of this cluster";
                }
            }
        }
        if (refusal != null) {
            log.warn("{}: refused an object channel connection from {}: {}", nodeName, remote(connection), refusal);
            reply(connection, ByteBuffer.allocate(ObjectChannel.REPLY_HEADER_BYTES),
                new CopyReply.Retry<Done>("node " + nodeName + " refused the connection: " + refusal), null);
            return false;
        }
        reply(connection, ByteBuffer.allocate(ObjectChannel.REPLY_HEADER_BYTES), new CopyReply.Ok<>(Done.DONE), null);
        return true;
    }

    /** One connection's requests, served in turn. */
    private final class Session {
        private final SocketChannel connection;
        private final ByteBuffer header = ByteBuffer.allocateDirect(ObjectChannel.REQUEST_HEADER_BYTES);
        private final ByteBuffer replyHeader = ByteBuffer.allocateDirect(ObjectChannel.REPLY_HEADER_BYTES);
        private ByteBuffer directData = ByteBuffer.allocateDirect(0);

        Session(SocketChannel connection) {
            this.connection = connection;
        }

        void run() throws IOException {
            while (nextRequest()) {
                ObjectChannel.Request request = ObjectChannel.getRequest(header.flip());
                String invalidity = request.invalidity();
                if (invalidity != null) {
                    log.warn("{}: bad object channel request from {}: {}", nodeName, remote(connection), invalidity);
                    reply(connection, replyHeader, new CopyReply.Retry<Done>("node " + nodeName + " cannot serve "
                        + invalidity), null);
                    return;
                }
                serve(request);
                requestsServed.incrementAndGet();
            }
        }

        /** False when the caller closed the connection between two requests. */
        private boolean nextRequest() throws IOException {
            header.clear();
            if (connection.read(header) < 0) {
                return false;
            }
            ObjectChannel.readFully(connection, header);
            return true;
        }

        private void serve(ObjectChannel.Request request) throws IOException {
            switch (request.op()) {
                case ObjectChannel.OP_READ -> {
                    ByteBuffer data = dataBuffer(request.length());
                    CopyReply<Done> read = copies.read(request.epoch(), request.id(), request.offset(), data.duplicate());
                    reply(connection, replyHeader, read, data);
                }
                case ObjectChannel.OP_WRITE -> {
                    ByteBuffer data = dataBuffer(request.length());
                    ObjectChannel.readFully(connection, data.duplicate());
                    reply(connection, replyHeader, copies.write(request.epoch(), request.id(), request.offset(), data), null);
                }
                case ObjectChannel.OP_FLUSH -> reply(connection, replyHeader,
                    copies.flush(ObjectChannel.readFlushIds(connection, request.length())), null);
                default -> throw new IllegalStateException("invalidity() let through operation " + request.op());
            }
        }

        /** A buffer of exactly {@code length} bytes: this connection's direct one, grown when needed. */
        private ByteBuffer dataBuffer(int length) {
            if (length > DIRECT_DATA_MAX) {
                return ByteBuffer.allocate(length);
            }
            if (directData.capacity() < length) {
                int powerOfTwo = Integer.highestOneBit(length - 1) << 1; // 0 for a length of 1
                directData = ByteBuffer.allocateDirect(Math.min(DIRECT_DATA_MAX, Math.max(4096, powerOfTwo)));
            }
            return directData.clear().limit(length);
        }
    }

    /** Sends a reply; {@code data} is a read's result, sent when the read succeeded. */
    private static void reply(SocketChannel connection, ByteBuffer header, CopyReply<Done> reply, ByteBuffer data)
            throws IOException {
        ByteBuffer body = reply instanceof CopyReply.Ok<Done> ? (data == null ? ByteBuffer.allocate(0) : data)
            : ObjectChannel.errorBody(ObjectWire.WireError.of(reply));
        header.clear().put(reply instanceof CopyReply.Ok<Done> ? ObjectChannel.STATUS_OK : ObjectChannel.STATUS_ERROR)
            .putInt(body.remaining()).flip();
        ByteBuffer[] parts = {header, body};
        while (body.hasRemaining() || header.hasRemaining()) {
            connection.write(parts);
        }
    }

    private static String remote(SocketChannel connection) {
        try {
            return String.valueOf(connection.getRemoteAddress());
        } catch (IOException e) {
            return "a closed connection";
        }
    }

    private static void closeQuietly(SocketChannel connection) {
        try {
            connection.close();
        } catch (IOException e) {
            log.debug("closing an object channel connection: {}", e.toString());
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (listener != null) {
                listener.close();
            }
        } catch (IOException e) {
            log.debug("closing the object channel listener: {}", e.toString());
        }
        helloDeadlines.shutdownNow();
        connections.forEach(ObjectChannelServer::closeQuietly);
        if (acceptor != null) {
            try {
                acceptor.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
