package herd.server;

import herd.control.EntryNotAppendedException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's end of the {@link EntryChannel}. Each connection has two platform threads: one reads
 * entries and hands them to the control plane, which puts them in its next log entry; the other
 * writes the replies as the entries complete. Replies are not written by the thread that completes
 * an entry (a Raft thread): a follower that stops reading would make it wait. Platform threads keep
 * the sockets in blocking mode, so a wait for data costs no extra poll.
 */
final class EntryChannelServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EntryChannelServer.class);
    /** A connection that has not said hello by then is closed, so strangers cannot hold threads here. */
    static final Duration HELLO_TIMEOUT = Duration.ofSeconds(10);
    private static final int BUFFER_BYTES = 64 * 1024;

    private final String nodeName;
    private final byte[] nodeToken;
    /** {@link herd.control.ControlPlaneNode#appendForwarded}. */
    private final Function<byte[], CompletableFuture<byte[]>> appendForwarded;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService helloDeadlines = Executors.newSingleThreadScheduledExecutor(
        runnable -> Thread.ofPlatform().daemon().name("herd-entries-hello").unstarted(runnable));
    private ServerSocket listener;
    private volatile boolean closed;

    EntryChannelServer(String nodeName, String nodeToken, Function<byte[], CompletableFuture<byte[]>> appendForwarded) {
        this.nodeName = nodeName;
        this.nodeToken = nodeToken.getBytes(StandardCharsets.UTF_8);
        this.appendForwarded = appendForwarded;
    }

    void start(InetSocketAddress bind) throws IOException {
        listener = new ServerSocket();
        listener.bind(bind);
        Thread.ofPlatform().daemon().name("herd-entries-accept").start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket connection;
            try {
                connection = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("{}: the entry channel stops accepting: {}", nodeName, e.toString());
                }
                return;
            }
            connections.add(connection);
            Thread.ofPlatform().daemon().name("herd-entries-from-" + connection.getRemoteSocketAddress())
                .start(() -> serve(connection));
        }
    }

    private void serve(Socket connection) {
        try (connection) {
            connection.setTcpNoDelay(true);
            connection.setKeepAlive(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(connection.getInputStream(), BUFFER_BYTES));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(connection.getOutputStream(), BUFFER_BYTES));
            if (welcomed(connection, in, out)) {
                ReplyWriter replies = new ReplyWriter(connection, out);
                try {
                    readEntries(in, replies);
                } finally {
                    replies.stop();
                }
            }
        } catch (EOFException e) {
            log.debug("{}: entry channel connection from {} closed", nodeName, connection.getRemoteSocketAddress());
        } catch (IOException e) {
            if (!closed) {
                log.debug("{}: entry channel connection from {} ended: {}", nodeName, connection.getRemoteSocketAddress(),
                    e.toString());
            }
        } catch (RuntimeException e) { // a bug: the follower sees the connection close and its entries' outcome unknown
            log.error("{}: entry channel connection from {} failed", nodeName, connection.getRemoteSocketAddress(), e);
        } finally {
            connections.remove(connection);
        }
    }

    /** Reads the hello; a caller without this cluster's node token is told so and let go. */
    private boolean welcomed(Socket connection, DataInputStream in, DataOutputStream out) throws IOException {
        ScheduledFuture<?> deadline = helloDeadlines.schedule(() -> closeQuietly(connection), HELLO_TIMEOUT.toMillis(),
            TimeUnit.MILLISECONDS);
        String refusal;
        try {
            refusal = MessageDigest.isEqual(EntryChannel.readHello(in), nodeToken) ? null
                : "wrong node token: the caller is not a node of this cluster";
        } catch (EOFException e) {
            throw e;
        } catch (IOException e) {
            refusal = e.getMessage();
        } finally {
            deadline.cancel(false);
        }
        if (refusal != null) {
            log.warn("{}: refused an entry channel connection from {}: {}", nodeName, connection.getRemoteSocketAddress(),
                refusal);
            EntryChannel.writeReply(out, EntryChannel.Reply.failed(0, "node " + nodeName + " refused the connection: "
                + refusal));
        } else {
            EntryChannel.writeReply(out, EntryChannel.Reply.ok(0, new byte[0]));
        }
        out.flush();
        return refusal == null;
    }

    /** Hands each entry to the control plane as it comes; its reply goes out when it completes. */
    private void readEntries(DataInputStream in, ReplyWriter replies) throws IOException {
        while (true) {
            long id = in.readLong();
            byte[] entry = EntryChannel.readBody(in);
            CompletableFuture<byte[]> appended;
            try {
                appended = appendForwarded.apply(entry);
            } catch (IllegalArgumentException e) {
                replies.send(EntryChannel.Reply.failed(id, "the forwarded entry is damaged: " + e.getMessage()
                    + "; nothing was appended"));
                continue;
            }
            appended.whenComplete((reply, error) -> replies.send(replyTo(id, reply, error)));
        }
    }

    private EntryChannel.Reply replyTo(long id, byte[] reply, Throwable error) {
        if (error == null) {
            return EntryChannel.Reply.ok(id, reply);
        }
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof EntryNotAppendedException) {
            return EntryChannel.Reply.notAppended(id, cause.getMessage() + "; nothing was appended");
        }
        return EntryChannel.Reply.failed(id, "leader " + nodeName + " could not complete the entry: " + cause.getMessage());
    }

    /** Writes a connection's replies in the order they are handed in, as many as wait per flush. */
    private final class ReplyWriter {
        private static final EntryChannel.Reply STOP = EntryChannel.Reply.ok(-1, new byte[0]);
        private final Socket connection;
        private final DataOutputStream out;
        private final BlockingQueue<EntryChannel.Reply> queue = new LinkedBlockingQueue<>();

        ReplyWriter(Socket connection, DataOutputStream out) {
            this.connection = connection;
            this.out = out;
            Thread.ofPlatform().daemon().name("herd-entries-to-" + connection.getRemoteSocketAddress())
                .start(this::run);
        }

        void send(EntryChannel.Reply reply) {
            queue.add(reply);
        }

        void stop() {
            queue.add(STOP);
        }

        private void run() {
            try {
                for (EntryChannel.Reply reply = queue.take(); reply != STOP; reply = queue.take()) {
                    EntryChannel.writeReply(out, reply);
                    if (queue.isEmpty()) {
                        out.flush();
                    }
                }
            } catch (IOException e) {
                log.debug("{}: cannot answer on the entry channel to {}: {}", nodeName, connection.getRemoteSocketAddress(),
                    e.toString());
                closeQuietly(connection); // the follower learns the outcome of its entries is unknown
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(Socket connection) {
        try {
            connection.close();
        } catch (IOException e) {
            log.debug("closing an entry channel connection: {}", e.toString());
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
            log.debug("closing the entry channel listener: {}", e.toString());
        }
        helloDeadlines.shutdownNow();
        connections.forEach(EntryChannelServer::closeQuietly);
    }
}
