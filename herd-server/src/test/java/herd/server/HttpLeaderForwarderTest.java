package herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import herd.control.ControlPlaneUnavailableException;
import herd.control.EntryNotAppendedException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a follower learns from the leader's answer to a forwarded entry, against a real HTTP server. */
class HttpLeaderForwarderTest {
    private HttpServer leader;
    private final AtomicReference<Integer> status = new AtomicReference<>(200);
    private final AtomicReference<byte[]> received = new AtomicReference<>();
    private final AtomicReference<String> authorization = new AtomicReference<>();
    private HttpLeaderForwarder forwarder;

    @BeforeEach
    void start() throws IOException {
        leader = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        leader.createContext(HttpLeaderForwarder.PATH, exchange -> {
            received.set(exchange.getRequestBody().readAllBytes());
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = status.get() == 200 ? new byte[] {7, 8} : "{\"error\":{\"message\":\"no\"}}".getBytes();
            exchange.sendResponseHeaders(status.get(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        leader.start();
        String address = "127.0.0.1:" + leader.getAddress().getPort();
        forwarder = new HttpLeaderForwarder("node-token", Duration.ofSeconds(1), Duration.ofSeconds(5),
            name -> name.equals("s1") ? Optional.of(address) : Optional.empty());
    }

    @AfterEach
    void stop() throws IOException {
        forwarder.close();
        leader.stop(0);
    }

    @Test
    void theLeadersReplyComesBackAndTheEntryTravelsAsItIs() throws Exception {
        assertThat(forwarder.forward("s1", new byte[] {1, 2, 3}).get(5, TimeUnit.SECONDS)).containsExactly(7, 8);
        assertThat(received.get()).containsExactly(1, 2, 3);
        assertThat(authorization.get()).isEqualTo("Bearer node-token");
    }

    @Test
    void aServerThatDoesNotLeadAppendedNothing() {
        status.set(421);
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class).cause().isInstanceOf(EntryNotAppendedException.class);
    }

    @Test
    void aLeaderWithoutAKnownAddressOrThatRefusesConnectionsAppendedNothing() throws Exception {
        assertThatThrownBy(() -> forwarder.forward("s9", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("not known");

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (HttpLeaderForwarder toNowhere = new HttpLeaderForwarder("t", Duration.ofSeconds(1), Duration.ofSeconds(5),
            name -> Optional.of("127.0.0.1:" + closedPort))) {
            assertThatThrownBy(() -> toNowhere.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(EntryNotAppendedException.class).hasMessageContaining("cannot connect");
        }
    }

    @Test
    void anyOtherAnswerLeavesTheOutcomeUnknown() {
        status.set(503);
        assertThatThrownBy(() -> forwarder.forward("s1", new byte[] {1}).get(5, TimeUnit.SECONDS))
            .cause().isInstanceOf(ControlPlaneUnavailableException.class)
            .hasMessageContaining("may or may not have been applied");
    }
}
