package herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import herd.control.ControlPlaneUnavailableException;
import herd.control.EntryNotAppendedException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A follower's entries over the {@link EntryChannel}: a real {@link EntryChannelServer} and
 * {@link EntryChannelForwarder} on loopback sockets, the leader's API (which names the channel's
 * port) a real HTTP server. Only the control plane behind the channel is stood in for: what matters
 * here is what the follower learns from each way an entry can end.
 */
class EntryChannelTest {
    private static final String TOKEN = "node-token";

    private EntryChannelServer channel;
    private HttpServer api;
    private EntryChannelForwarder forwarder;
    /** The entries the leader was handed, with the futures it answers them through. */
    private final List<byte[]> appended = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<byte[]>> replies = new CopyOnWriteArrayList<>();
    private final AtomicInteger sentOverHttp = new AtomicInteger();

    @AfterEach
    void stop() throws Exception {
        if (forwarder != null) {
            forwarder.close();
        }
        if (channel != null) {
            channel.close();
        }
        if (api != null) {
            api.stop(0);
        }
    }

    /** A leader whose control plane answers each entry through a future the test completes. */
    private void leaderHoldingReplies() throws IOException {
        leader(entry -> {
            CompletableFuture<byte[]> reply = new CompletableFuture<>();
            appended.add(entry);
            replies.add(reply);
            return reply;
        }, true);
    }

    private void leader(Function<byte[], CompletableFuture<byte[]>> appendForwarded, boolean namesChannel)
            throws IOException {
        channel = new EntryChannelServer("s1", TOKEN, appendForwarded);
        channel.start(new InetSocketAddress("127.0.0.1", 0));
        api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        api.createContext(EntryChannel.PORT_PATH, exchange -> {
            byte[] body = ("{\"port\":" + channel.port() + "}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(namesChannel ? 200 : 404, namesChannel ? body.length : -1);
            if (namesChannel) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        api.start();
    }

    private EntryChannelForwarder forwarder(String token, Duration callTimeout) {
        String apiAddress = "127.0.0.1:" + api.getAddress().getPort();
        return new EntryChannelForwarder(token, Duration.ofSeconds(2), callTimeout,
            name -> name.equals("s1") ? Optional.of(apiAddress) : Optional.empty(), new PeerApi(token, Duration.ofSeconds(2)),
            (leader, entry) -> {
                sentOverHttp.incrementAndGet();
                return CompletableFuture.completedFuture(new byte[] {42});
            });
    }

    private void awaitAppended(int count) throws InterruptedException {
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); appended.size() < count; ) {
            assertThat(System.nanoTime() - deadline).as("entries reaching the leader").isNegative();
            Thread.sleep(5);
        }
    }

    @Test
    void manyEntriesTravelAtOnceAndEachGetsItsOwnReplyInWhateverOrderTheyComplete() throws Exception {
        leaderHoldingReplies();
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        CompletableFuture<byte[]> first = forwarder.forward("s1", new byte[] {-1}); // opens the connection
        awaitAppended(1);
        replies.get(0).complete(new byte[] {-1});
        assertThat(first.get(5, TimeUnit.SECONDS)).containsExactly(-1);

        List<CompletableFuture<byte[]>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add(forwarder.forward("s1", new byte[] {(byte) i, 1, 2}));
        }
        awaitAppended(21);
        assertThat(appended.subList(1, 21)).as("entries one thread sent arrive in its order")
            .extracting(entry -> (int) entry[0]).containsExactlyElementsOf(IntStream.range(0, 20).boxed().toList());
        for (int i = 20; i >= 1; i--) { // the last one first
            replies.get(i).complete(new byte[] {(byte) (100 + i)});
        }
        for (int i = 0; i < 20; i++) {
            assertThat(sent.get(i).get(5, TimeUnit.SECONDS)).containsExactly(101 + i);
        }
        assertThat(sentOverHttp).hasValue(0);
    }

    @Test
    void aLeaderThatAppendedNothingSaysSoAndTheFollowerMayTryElsewhere() throws Exception {
        leader(entry -> CompletableFuture.failedFuture(new EntryNotAppendedException("s1 is not the leader")), true);
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class).cause().isInstanceOf(EntryNotAppendedException.class)
            .hasMessageContaining("s1 is not the leader");
    }

    @Test
    void anyOtherFailureOfTheEntryLeavesItsOutcomeUnknown() throws Exception {
        leader(entry -> CompletableFuture.failedFuture(new ControlPlaneUnavailableException("the log is full", null)), true);
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(ControlPlaneUnavailableException.class)
            .hasMessageContaining("the log is full").hasMessageContaining("may or may not have been applied");
    }

    @Test
    void aDamagedEntryIsRefusedAndTheConnectionServesTheNextOne() throws Exception {
        leader(entry -> {
            if (entry[0] == 0) {
                throw new IllegalArgumentException("not a command");
            }
            return CompletableFuture.completedFuture(new byte[] {entry[0]});
        }, true);
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {0}).get(5, TimeUnit.SECONDS))
            .cause().hasMessageContaining("damaged: not a command");
        assertThat(forwarder.forward("s1", new byte[] {5}).get(5, TimeUnit.SECONDS)).containsExactly(5);
    }

    @Test
    void aCallerWithoutTheClusterTokenIsRefusedBeforeAnythingIsAppended() throws Exception {
        leaderHoldingReplies();
        forwarder = forwarder("another-token", Duration.ofSeconds(10));
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("wrong node token");
        assertThat(appended).isEmpty();
    }

    @Test
    void aLeaderThatNamesNoChannelGetsTheEntryOverHttp() throws Exception {
        leader(entry -> CompletableFuture.completedFuture(new byte[0]), false);
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        assertThat(forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS)).containsExactly(42);
        assertThat(sentOverHttp).hasValue(1);
    }

    @Test
    void aLeaderOutOfReachOrUnknownAppendedNothing() throws Exception {
        leaderHoldingReplies();
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        assertThatThrownBy(() -> forwarder.forward("s9", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("not known");
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (EntryChannelForwarder toNowhere = new EntryChannelForwarder(TOKEN, Duration.ofSeconds(1),
            Duration.ofSeconds(5), name -> Optional.of("127.0.0.1:" + closedPort), new PeerApi(TOKEN, Duration.ofSeconds(1)),
            (leader, entry) -> CompletableFuture.failedFuture(new AssertionError("not over HTTP")))) {
            assertThatThrownBy(() -> toNowhere.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("cannot reach leader s1");
        }
    }

    @Test
    void aLeaderThatCouldNotBeReachedIsNotAskedAgainForAMoment() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        api.createContext(EntryChannel.PORT_PATH, exchange -> { // a leader that cannot take entries yet
            asked.incrementAndGet();
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        api.start();
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));

        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("did not name its entry channel");
        for (int i = 0; i < 20; i++) {
            assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("moments ago");
        }
        assertThat(asked).as("entries that came back at once did not ask the leader again").hasValue(1);

        Thread.sleep(EntryChannelForwarder.RECONNECT_PAUSE.toMillis() + 50);
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("did not name its entry channel");
        assertThat(asked).as("after the pause the leader is asked again").hasValue(2);
    }

    @Test
    void aConnectionThatBreaksAfterTheEntryLeftLeavesItsOutcomeUnknown() throws Exception {
        leaderHoldingReplies();
        forwarder = forwarder(TOKEN, Duration.ofSeconds(10));
        CompletableFuture<byte[]> sent = forwarder.forward("s1", new byte[] {1});
        awaitAppended(1);
        channel.close(); // the leader goes away with the entry in its hands
        assertThatThrownBy(() -> sent.get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(ControlPlaneUnavailableException.class)
            .hasMessageContaining("may or may not have been applied");
    }

    @Test
    void anEntryWithoutAReplyInTimeHasAnUnknownOutcomeAndTheNextOneGetsAFreshConnection() throws Exception {
        leaderHoldingReplies();
        forwarder = forwarder(TOKEN, Duration.ofMillis(300));
        CompletableFuture<byte[]> late = forwarder.forward("s1", new byte[] {1});
        assertThatThrownBy(() -> late.get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(ControlPlaneUnavailableException.class).hasMessageContaining("did not answer within 300 ms");
        replies.get(0).complete(new byte[] {9}); // too late: nobody waits for it any more

        CompletableFuture<byte[]> next = forwarder.forward("s1", new byte[] {2});
        awaitAppended(2);
        replies.get(1).complete(new byte[] {7});
        assertThat(next.get(5, TimeUnit.SECONDS)).containsExactly(7);
    }
}
