package herd.server;

import herd.control.ControlPlaneUnavailableException;
import herd.control.EntryNotAppendedException;
import herd.control.LeaderForwarder;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards a follower's write entries to the leader over its {@link EntryChannel}: one connection
 * per leader, kept open, with any number of entries on their way. An entry's frame is written by the
 * thread that forwards it; one platform thread per connection reads the replies and completes the
 * entries (and so their commands, see {@link herd.control.ControlPlaneNode#submit}). A leader that
 * names no channel (an older version) gets its entries over HTTP.
 *
 * <p>What the follower may conclude, as {@link LeaderForwarder} asks: the entry certainly was not
 * appended when the leader's address is not known, the leader cannot be reached, the connection
 * failed before the whole frame left (the leader drops a frame cut short), or the leader answered
 * {@link EntryChannel#STATUS_NOT_APPENDED}. When the connection breaks after the frame left, or no
 * reply comes within the call timeout, the outcome is unknown. Nothing is ever sent twice here.
 */
final class EntryChannelForwarder implements LeaderForwarder, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EntryChannelForwarder.class);
    private static final int BUFFER_BYTES = 64 * 1024;
    private static final long WATCHDOG_PERIOD_MILLIS = 200;
    /** How soon a leader that named no channel is asked again (it may have been upgraded). */
    static final Duration ASK_AGAIN = Duration.ofSeconds(30);
    /**
     * How long after failing to reach a leader its entries fail at once rather than try again. Until
     * the election timeout tells this node that its leader is dead, every entry waiting for a leader
     * comes back here every few ms; trying each time (an HTTP request, then a connection refused)
     * kept the surviving servers' CPUs busy through the whole election and slowed it down.
     */
    static final Duration RECONNECT_PAUSE = Duration.ofMillis(100);

    private final String nodeToken;
    private final Duration connectTimeout;
    private final Duration callTimeout;
    /** A server's API address by its name, from this node's replica of the cluster state. */
    private final Function<String, Optional<String>> apiAddressOf;
    private final PeerApi peers;
    private final LeaderForwarder overHttp;
    /** Open connections by the leader's API address. */
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    /** Leaders that named no channel when asked, by API address: when to ask again (System.nanoTime()). */
    private final Map<String, Long> withoutChannel = new ConcurrentHashMap<>();
    /** Leaders that could not be reached, by API address: when to try again (System.nanoTime()). */
    private final Map<String, Long> unreachable = new ConcurrentHashMap<>();
    /** Held while connecting, so that concurrent entries to a new leader share one connection. */
    private final ReentrantLock connecting = new ReentrantLock();
    private final ExecutorService connectors = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
        runnable -> Thread.ofPlatform().daemon().name("herd-entries-watchdog").unstarted(runnable));

    /**
     * @param connectTimeout how long asking the leader for its channel and connecting to it may take
     * @param callTimeout    how long an entry may wait for its reply before its outcome is called unknown
     * @param overHttp       for leaders that name no channel
     */
    EntryChannelForwarder(String nodeToken, Duration connectTimeout, Duration callTimeout,
                          Function<String, Optional<String>> apiAddressOf, PeerApi peers, LeaderForwarder overHttp) {
        this.nodeToken = nodeToken;
        this.connectTimeout = connectTimeout;
        this.callTimeout = callTimeout;
        this.apiAddressOf = apiAddressOf;
        this.peers = peers;
        this.overHttp = overHttp;
        watchdog.scheduleWithFixedDelay(this::expireOverdue, WATCHDOG_PERIOD_MILLIS, WATCHDOG_PERIOD_MILLIS,
            TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletableFuture<byte[]> forward(String leaderName, byte[] entry) {
        Optional<String> address = apiAddressOf.apply(leaderName);
        if (address.isEmpty()) {
            return HttpLeaderForwarder.addressUnknown(leaderName);
        }
        Link link = links.get(address.get());
        if (link != null) {
            return link.send(entry);
        }
        if (notYet(unreachable, address.get())) {
            return CompletableFuture.failedFuture(notReachedRecently(leaderName, address.get()));
        }
        // Connecting blocks: not on the forwarding thread, which may serve other entries too.
        return CompletableFuture.supplyAsync(() -> linkTo(leaderName, address.get()), connectors)
            .thenCompose(opened -> opened.isPresent() ? opened.get().send(entry) : overHttp.forward(leaderName, entry));
    }

    /** The open connection to the leader at {@code apiAddress}, made now if need be; empty: it has no channel. */
    private Optional<Link> linkTo(String leaderName, String apiAddress) {
        connecting.lock();
        try {
            Link open = links.get(apiAddress);
            if (open != null) {
                return Optional.of(open);
            }
            if (notYet(unreachable, apiAddress)) { // the attempt this one waited for failed
                throw notReachedRecently(leaderName, apiAddress);
            }
            if (notYet(withoutChannel, apiAddress)) {
                return Optional.empty();
            }
            return tryToLink(leaderName, apiAddress);
        } finally {
            connecting.unlock();
        }
    }

    /** Asks the leader for its channel and connects to it; a failure holds off the next attempt. */
    private Optional<Link> tryToLink(String leaderName, String apiAddress) {
        try {
            Optional<Integer> port = channelPort(leaderName, apiAddress);
            if (port.isEmpty()) {
                withoutChannel.put(apiAddress, System.nanoTime() + ASK_AGAIN.toNanos());
                return Optional.empty();
            }
            withoutChannel.remove(apiAddress);
            Link link = connect(leaderName, apiAddress, port.get());
            links.put(apiAddress, link);
            unreachable.remove(apiAddress);
            return Optional.of(link);
        } catch (EntryNotAppendedException e) {
            unreachable.put(apiAddress, System.nanoTime() + RECONNECT_PAUSE.toNanos());
            throw e;
        }
    }

    /** Whether {@code apiAddress} has a time to try again at in {@code tryAgainAt} that has not come yet. */
    private static boolean notYet(Map<String, Long> tryAgainAt, String apiAddress) {
        Long time = tryAgainAt.get(apiAddress);
        return time != null && System.nanoTime() - time < 0;
    }

    private static EntryNotAppendedException notReachedRecently(String leaderName, String apiAddress) {
        return new EntryNotAppendedException("leader " + leaderName + " at " + apiAddress
            + " could not be reached moments ago; trying again within " + RECONNECT_PAUSE.toMillis() + " ms");
    }

    /** The port the leader names for its channel; empty when it names none (it answers 404 there). */
    private Optional<Integer> channelPort(String leaderName, String apiAddress) {
        PeerApi.Reply reply;
        try {
            reply = peers.get(apiAddress, EntryChannel.PORT_PATH, connectTimeout);
        } catch (IOException e) {
            throw new EntryNotAppendedException("cannot reach leader " + leaderName + " at " + apiAddress + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EntryNotAppendedException("interrupted while looking for leader " + leaderName, e);
        }
        if (reply.status() == 404) {
            log.info("leader {} offers no entry channel: this node forwards its writes over HTTP", leaderName);
            return Optional.empty();
        }
        if (!reply.ok() || reply.body() == null || !reply.body().path("port").canConvertToInt()) {
            throw new EntryNotAppendedException("leader " + leaderName + " did not name its entry channel: "
                + reply.errorMessage());
        }
        return Optional.of(reply.body().path("port").asInt());
    }

    private Link connect(String leaderName, String apiAddress, int port) {
        String host = apiAddress.substring(0, apiAddress.lastIndexOf(':'));
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            socket.setTcpNoDelay(true);
            socket.setKeepAlive(true);
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), BUFFER_BYTES));
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), BUFFER_BYTES));
            EntryChannel.writeHello(out, nodeToken);
            out.flush();
            socket.setSoTimeout((int) connectTimeout.toMillis());
            EntryChannel.Reply welcome = EntryChannel.readReply(in);
            socket.setSoTimeout(0);
            if (welcome.status() != EntryChannel.STATUS_OK) {
                throw new IOException(welcome.reason());
            }
            Link link = new Link(leaderName, apiAddress, socket, in, out);
            Thread.ofPlatform().daemon().name("herd-entries-from-" + leaderName).start(link::readReplies);
            return link;
        } catch (IOException e) {
            closeQuietly(socket);
            throw new EntryNotAppendedException("cannot open the entry channel to leader " + leaderName + " at " + host
                + ":" + port + ": " + e, e);
        }
    }

    private void expireOverdue() {
        long now = System.nanoTime();
        links.values().forEach(link -> link.expireOverdue(now));
    }

    @Override
    public void close() throws Exception {
        watchdog.shutdownNow();
        connectors.shutdownNow();
        links.values().forEach(link -> link.close("this node stops"));
        if (overHttp instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("closing an entry channel connection: {}", e.toString());
        }
    }

    /** An entry on its way: what to complete with its reply, and by when it must have come. */
    private record Pending(CompletableFuture<byte[]> reply, long deadlineNanos) {}

    /** One open connection to a leader, and the entries on their way over it. */
    private final class Link {
        private final String leaderName;
        private final String apiAddress;
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;
        private final ReentrantLock writing = new ReentrantLock();
        private final AtomicLong lastId = new AtomicLong();
        private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
        private volatile boolean closed;

        Link(String leaderName, String apiAddress, Socket socket, DataInputStream in, DataOutputStream out) {
            this.leaderName = leaderName;
            this.apiAddress = apiAddress;
            this.socket = socket;
            this.in = in;
            this.out = out;
        }

        CompletableFuture<byte[]> send(byte[] entry) {
            long id = lastId.incrementAndGet();
            Pending waiting = new Pending(new CompletableFuture<>(), System.nanoTime() + callTimeout.toNanos());
            pending.put(id, waiting);
            writing.lock();
            try {
                if (closed) {
                    throw new IOException("the connection was closed");
                }
                EntryChannel.writeRequest(out, id, entry);
                out.flush();
            } catch (IOException e) {
                // The frame did not leave whole, and the leader drops a frame cut short.
                pending.remove(id);
                waiting.reply().completeExceptionally(new EntryNotAppendedException("the entry channel to leader "
                    + leaderName + " failed before the entry left: " + e, e));
                close(e.toString());
            } finally {
                writing.unlock();
            }
            if (closed) { // closed after the entry was counted in, by a reader that may have missed it
                fail(id, "the entry channel to leader " + leaderName + " closed");
            }
            return waiting.reply();
        }

        void readReplies() {
            try {
                while (!closed) {
                    EntryChannel.Reply reply = EntryChannel.readReply(in);
                    Pending waiting = pending.remove(reply.id());
                    if (waiting != null) { // else it was given up on already
                        complete(waiting.reply(), reply);
                    }
                }
            } catch (IOException e) {
                close(e.toString());
            }
        }

        private void complete(CompletableFuture<byte[]> entry, EntryChannel.Reply reply) {
            switch (reply.status()) {
                case EntryChannel.STATUS_OK -> entry.complete(reply.body());
                case EntryChannel.STATUS_NOT_APPENDED -> entry.completeExceptionally(new EntryNotAppendedException(
                    "leader " + leaderName + " refused the entry: " + reply.reason()));
                default -> entry.completeExceptionally(new ControlPlaneUnavailableException(reply.reason()
                    + "; the command may or may not have been applied", null));
            }
        }

        /** Gives up on the entries whose reply is overdue, and on the connection: the leader may be gone. */
        void expireOverdue(long now) {
            boolean overdue = pending.values().stream().anyMatch(waiting -> now - waiting.deadlineNanos() > 0);
            if (overdue) {
                close("leader " + leaderName + " did not answer within " + callTimeout.toMillis() + " ms");
            }
        }

        /**
         * Closes the connection; every entry still on its way has an unknown outcome, for the reason
         * of the first to close it (the reader sees the socket closed under it too).
         */
        void close(String why) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            links.remove(apiAddress, this);
            closeQuietly(socket);
            pending.keySet().forEach(id -> fail(id, why));
        }

        private void fail(long id, String why) {
            Pending waiting = pending.remove(id);
            if (waiting != null) {
                waiting.reply().completeExceptionally(new ControlPlaneUnavailableException("forwarding to leader "
                    + leaderName + " failed: " + why + "; the command may or may not have been applied", null));
            }
        }
    }
}
