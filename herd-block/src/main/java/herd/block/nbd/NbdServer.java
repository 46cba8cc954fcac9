package herd.block.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle, structured replies, base:allocation) on one address. Each
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
    private static final int ACCEPT_BACKLOG = 64;
    /** A client that connects and does not finish its handshake by then is dropped. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    private final InetSocketAddress listen;
    private final ExportResolver resolver;
    private final Duration handshakeTimeout;
    private final ScheduledExecutorService handshakeDeadlines = Executors.newSingleThreadScheduledExecutor(
            runnable -> Thread.ofPlatform().daemon().name("nbd-handshake-deadlines").unstarted(runnable));
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final PayloadBuffers buffers = new PayloadBuffers();
    private ServerSocket serverSocket;
    private Thread acceptor;
    private volatile boolean closed;

    /** A server for {@code listen} (bound only to that address; port 0 picks a free one). */
    public NbdServer(InetSocketAddress listen, ExportResolver resolver) {
        this(listen, resolver, HANDSHAKE_TIMEOUT);
    }

    NbdServer(InetSocketAddress listen, ExportResolver resolver, Duration handshakeTimeout) {
        this.listen = listen;
        this.resolver = resolver;
        this.handshakeTimeout = handshakeTimeout;
    }

    /** Binds and starts accepting. */
    public synchronized void start() throws IOException {
        if (serverSocket != null) {
            throw new IllegalStateException("NBD server already started on " + localAddress());
        }
        // A channel's socket: connections write large reads to the channel from direct buffers.
        ServerSocket socket = ServerSocketChannel.open().socket();
        try {
            socket.setReuseAddress(true);
            socket.bind(listen, ACCEPT_BACKLOG);
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen for NBD on " + listen + ": " + e.getMessage()
                    + " (is another server using the port?)", e);
        }
        serverSocket = socket;
        acceptor = Thread.ofPlatform().name("nbd-accept-" + socket.getLocalPort()).daemon().start(this::acceptLoop);
        log.info("NBD server listening on {}", localAddress());
    }

    /** The bound address (with the real port when 0 was asked for). */
    public synchronized InetSocketAddress localAddress() {
        if (serverSocket == null) {
            throw new IllegalStateException("the NBD server for " + listen + " is not started");
        }
        return (InetSocketAddress) serverSocket.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("NBD server on {} stops accepting: {}", listen, e.toString());
                }
                return;
            }
            if (connections.size() >= MAX_CONNECTIONS) {
                log.warn("NBD client {} refused: already {} connections", socket.getRemoteSocketAddress(),
                        MAX_CONNECTIONS);
                closeQuietly(socket);
                continue;
            }
            connections.add(socket);
            Thread.ofPlatform().daemon().name("nbd-" + socket.getRemoteSocketAddress()).start(() -> {
                try {
                    new NbdConnection(socket, resolver, buffers, handshakeDeadlines, handshakeTimeout).run();
                } finally {
                    connections.remove(socket);
                }
            });
        }
    }

    /** Stops accepting and closes every connection (requests in flight fail on the client). */
    @Override
    public void close() {
        closed = true;
        handshakeDeadlines.shutdownNow();
        synchronized (this) {
            if (serverSocket != null) {
                closeQuietly(serverSocket);
            }
        }
        for (Socket socket : connections) {
            closeQuietly(socket);
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
