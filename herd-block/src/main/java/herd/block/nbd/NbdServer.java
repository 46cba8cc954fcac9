package herd.block.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle, structured replies, base:allocation) on one address: a TCP address,
 * or a Unix socket ({@link UnixSocketFile}: for clients on the same machine, which the file's
 * permissions admit or not, and cheaper per request than TCP on loopback). Each
 * connection's handshake runs on a platform thread of its own, its requests on the connection's
 * workers ({@link NbdConnection}); the exports come from the {@link ExportResolver} at the moment a
 * client asks for one.
 *
 * <p>A connection's socket stays in blocking mode: a virtual thread's I/O on it, or a read with a
 * timeout, would switch it to non-blocking mode for good, and every read that finds no data would
 * then cost a failed read and a poll. So a client that does not finish its handshake in time is
 * not timed out by its reads; a deadline closes its socket.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);

    /** The port NBD clients try when none is given. */
    public static final int DEFAULT_PORT = 10809;
    /** Connections served at once; further ones are closed at once. */
    public static final int MAX_CONNECTIONS = 256;
    /** The longest path a Unix socket may have, in bytes: sun_path holds 108 with the terminating zero. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    private static final int ACCEPT_BACKLOG = 64;
    /** A client that connects and does not finish its handshake by then is dropped. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    private final SocketAddress listen;
    private final ExportResolver resolver;
    private final Duration handshakeTimeout;
    private final ScheduledExecutorService handshakeDeadlines = Executors.newSingleThreadScheduledExecutor(
            runnable -> Thread.ofPlatform().daemon().name("nbd-handshake-deadlines").unstarted(runnable));
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final PayloadBuffers buffers = new PayloadBuffers();
    /** Numbers the clients of a Unix socket, which have no address of their own. */
    private final AtomicLong localClients = new AtomicLong();
    private ServerSocketChannel serverSocket;
    private Thread acceptor;
    private volatile boolean closed;

    /**
     * A server for {@code listen}: an {@link InetSocketAddress} (bound only to that address; port 0
     * picks a free one) or a {@link UnixDomainSocketAddress}.
     */
    public NbdServer(SocketAddress listen, ExportResolver resolver) {
        this(listen, resolver, HANDSHAKE_TIMEOUT);
    }

    NbdServer(SocketAddress listen, ExportResolver resolver, Duration handshakeTimeout) {
        if (!(listen instanceof InetSocketAddress || listen instanceof UnixDomainSocketAddress)) {
            throw new IllegalArgumentException("an NBD server listens on a TCP address or a Unix socket, not " + listen);
        }
        this.listen = listen;
        this.resolver = resolver;
        this.handshakeTimeout = handshakeTimeout;
    }

    /** Binds and starts accepting. */
    public synchronized void start() throws IOException {
        if (serverSocket != null) {
            throw new IllegalStateException("NBD server already started on " + listen);
        }
        serverSocket = listen instanceof UnixDomainSocketAddress unix ? UnixSocketFile.bind(unix, ACCEPT_BACKLOG)
            : bindTcp((InetSocketAddress) listen);
        String bound = describe(serverSocket.getLocalAddress()); // with the port chosen for port 0
        acceptor = Thread.ofPlatform().name("nbd-accept-" + bound).daemon().start(this::acceptLoop);
        log.info("NBD server listening on {}", bound);
    }

    private static ServerSocketChannel bindTcp(InetSocketAddress address) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.INET);
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, ACCEPT_BACKLOG);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen for NBD on " + address + ": " + e.getMessage()
                    + " (is another server using the port?)", e);
        }
    }

    /** The bound TCP address (with the real port when 0 was asked for). */
    public synchronized InetSocketAddress localAddress() {
        if (serverSocket == null) {
            throw new IllegalStateException("the NBD server for " + describe(listen) + " is not started");
        }
        if (!(listen instanceof InetSocketAddress)) {
            throw new IllegalStateException("the NBD server on " + describe(listen) + " has no TCP address");
        }
        try {
            return (InetSocketAddress) serverSocket.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("the NBD server for " + describe(listen) + " is closed", e);
        }
    }

    /** The payload buffers every connection of this server shares (for tests). */
    PayloadBuffers payloadBuffers() {
        return buffers;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = serverSocket.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("NBD server on {} stops accepting: {}", describe(listen), e.toString());
                }
                return;
            }
            String client = clientName(channel);
            if (connections.size() >= MAX_CONNECTIONS) {
                log.warn("NBD client {} refused: already {} connections", client, MAX_CONNECTIONS);
                closeQuietly(channel);
                continue;
            }
            connections.add(channel);
            Thread.ofPlatform().daemon().name("nbd-" + client).start(() -> {
                try {
                    new NbdConnection(channel, client, resolver, buffers, handshakeDeadlines, handshakeTimeout).run();
                } finally {
                    connections.remove(channel);
                }
            });
        }
    }

    /** A TCP client's address; a Unix socket's clients have none, so they are numbered. */
    private String clientName(SocketChannel channel) {
        if (listen instanceof UnixDomainSocketAddress) {
            return "local-" + localClients.incrementAndGet();
        }
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    /** Why {@code path} is too long for a Unix socket, if it is. */
    public static Optional<String> socketPathProblem(String path) {
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        return bytes <= MAX_SOCKET_PATH_BYTES ? Optional.empty()
            : Optional.of("its path has " + bytes + " bytes and a Unix socket's may have at most "
                + MAX_SOCKET_PATH_BYTES + ": choose a shorter one");
    }

    /** An address as the logs name it: {@code /HOST:PORT} or {@code unix:PATH}. */
    static String describe(SocketAddress address) {
        return address instanceof UnixDomainSocketAddress unix ? "unix:" + unix.getPath() : String.valueOf(address);
    }

    /** Stops accepting and closes every connection (requests in flight fail on the client). */
    @Override
    public void close() {
        closed = true;
        handshakeDeadlines.shutdownNow();
        synchronized (this) {
            if (serverSocket != null) {
                closeQuietly(serverSocket);
                if (listen instanceof UnixDomainSocketAddress unix) {
                    UnixSocketFile.remove(unix);
                }
            }
        }
        for (SocketChannel channel : connections) {
            closeQuietly(channel);
        }
        if (acceptor != null) {
            try {
                acceptor.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            log.debug("closing {}: {}", closeable, e.toString());
        }
    }
}
