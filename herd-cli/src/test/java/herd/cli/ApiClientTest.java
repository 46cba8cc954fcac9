package herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The CLI's HTTP client against real sockets on the loopback. */
class ApiClientTest {

    /** A server that reads each request whole and closes the connection without answering. */
    private static final class Dropper implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger requests = new AtomicInteger();

        Dropper() throws IOException {
            Thread.ofPlatform().daemon().start(this::acceptAll);
        }

        private void acceptAll() {
            while (!socket.isClosed()) {
                try (Socket connection = socket.accept()) {
                    readHeaders(connection.getInputStream());
                    requests.incrementAndGet();
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        String endpoint() {
            return "127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void readHeaders(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        }
    }

    @Test
    void aChangeIsSentOnceWhenItsConnectionDropsBeforeTheAnswer() throws IOException {
        try (Dropper first = new Dropper(); Dropper second = new Dropper()) {
            ApiClient client = new ApiClient(List.of(first.endpoint(), second.endpoint()), "t");
            assertThatThrownBy(() -> client.post("/v1/volumes/a/snapshot", null)).isInstanceOf(CliException.class)
                .hasMessageContaining("the connection to " + first.endpoint() + " failed before its answer")
                .hasMessageContaining("may or may not have taken effect");
            assertThatThrownBy(() -> client.delete("/v1/volumes/a")).isInstanceOf(CliException.class);
            assertThatThrownBy(() -> client.put("/v1/kv/a", new ObjectMapper().createObjectNode().put("value", "b")))
                .isInstanceOf(CliException.class);
            assertThat(first.requests.get()).as("requests the first endpoint read: one per call, none sent again")
                .isEqualTo(3);
            assertThat(second.requests.get()).as("requests sent on to the next endpoint").isZero();
        }
    }

    @Test
    void aReadGoesOnToTheNextEndpointWhenAConnectionDrops() throws IOException {
        try (Dropper first = new Dropper(); FakeApi api = new FakeApi()) {
            api.answer("GET /v1/kv/a", 200, "{\"value\":\"b\"}");
            ApiClient.Response response = new ApiClient(List.of(first.endpoint(), api.endpoint()), "t").get("/v1/kv/a");
            assertThat(response.body().path("value").asText()).isEqualTo("b");
        }
    }

    @Test
    void theNextEndpointAnswersWhenTheFirstIsDown() throws IOException {
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = unused.getLocalPort();
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("{\"authorization\":\"" + exchange.getRequestHeaders().getFirst("Authorization") + "\"}")
                .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            ApiClient client = new ApiClient(
                List.of("127.0.0.1:" + closedPort, "127.0.0.1:" + server.getAddress().getPort()), "secret");
            ApiClient.Response response = client.get("/v1/health");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body().path("authorization").asText()).isEqualTo("Bearer secret");
            assertThat(client.post("/v1/kv/a", new ObjectMapper().createObjectNode().put("value", "b")).status())
                .as("a change the first endpoint never received").isEqualTo(200);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anErrorAnswerCarriesTheServersCodeAndMessage() throws IOException {
        try (FakeApi api = new FakeApi()) {
            api.answer("POST /v1/volumes", 409, "{\"error\":{\"code\":\"conflict\",\"message\":\"volume a exists\"}}");
            ApiClient.Response response = new ApiClient(List.of(api.endpoint()), "t")
                .post("/v1/volumes", new ObjectMapper().createObjectNode().put("name", "a"));
            assertThat(response.status()).isEqualTo(409);
            assertThat(response.errorCode()).isEqualTo("conflict");
            assertThat(response.errorMessage()).isEqualTo("volume a exists");
            assertThat(api.last("POST", "/v1/volumes").body()).isEqualTo("{\"name\":\"a\"}");
        }
    }

    @Test
    void aRefusedTokenIsAnAnswerForEveryMethod() throws IOException {
        try (FakeApi api = new FakeApi()) {
            String refused = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"bad token\"}}";
            for (String method : List.of("GET", "POST", "PUT", "DELETE")) {
                api.answer(method + " /v1/kv/a", 401, refused);
            }
            ApiClient client = new ApiClient(List.of(api.endpoint()), "wrong");
            var body = new ObjectMapper().createObjectNode().put("value", "b");
            for (ApiClient.Response response : List.of(client.get("/v1/kv/a"), client.post("/v1/kv/a", body),
                    client.post("/v1/kv/a", null), client.put("/v1/kv/a", body), client.delete("/v1/kv/a"))) {
                assertThat(response.status()).isEqualTo(401);
                assertThat(response.errorCode()).isEqualTo("unauthorized");
                assertThat(response.errorMessage()).contains("token");
            }
        }
    }

    @Test
    void aWatchReadsLinesAsTheServerSendsThem() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked: the length is not known
            OutputStream out = exchange.getResponseBody();
            out.write("{\"n\":1}\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            out.write("{\"n\":2}\n".getBytes(StandardCharsets.UTF_8));
            exchange.close();
        });
        server.start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(
                new ApiClient(List.of("127.0.0.1:" + server.getAddress().getPort()), "t").stream("/v1/kv/a?watch=true"),
                StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).isEqualTo("{\"n\":1}");
            assertThat(lines.readLine()).isEqualTo("{\"n\":2}");
            assertThat(lines.readLine()).isNull();
        } finally {
            server.stop(0);
        }
    }
}
