package herd.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory stand-in for one herd member that speaks the part of docs/api.md the load generator uses,
 * so the herd client can be checked against the contract before the daemon exists.
 */
final class FakeHerdApi implements AutoCloseable {

    static final String TOKEN = "test-admin-token";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final Map<String, byte[]> valuesByKey = new ConcurrentHashMap<>();
    private final AtomicLong revision = new AtomicLong();
    private volatile int forcedStatus; // 0: behave; otherwise answer every kv request with this status

    FakeHerdApi(String name) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/v1/kv/", this::kv);
        server.createContext("/v1/servers", exchange -> {
            if (authorized(exchange)) {
                respond(exchange, 200, "[{\"id\":1,\"name\":\"" + name + "\",\"state\":\"LEADER\"}]");
            }
        });
        server.start();
    }

    Member member(String name) {
        return new Member(name, "127.0.0.1", server.getAddress().getPort());
    }

    void answerEveryRequestWith(int status) {
        forcedStatus = status;
    }

    int keyCount() {
        return valuesByKey.size();
    }

    private void kv(HttpExchange exchange) throws IOException {
        if (!authorized(exchange)) {
            return;
        }
        if (forcedStatus != 0) {
            respond(exchange, forcedStatus, "{\"error\":{\"code\":\"no_leader\",\"message\":\"retry\"}}");
            return;
        }
        String key = exchange.getRequestURI().getPath().substring("/v1/kv/".length());
        switch (exchange.getRequestMethod()) {
            case "PUT" -> put(exchange, key);
            case "GET" -> get(exchange, key);
            default -> respond(exchange, 400, "{\"error\":{\"code\":\"bad_request\",\"message\":\"method\"}}");
        }
    }

    private void put(HttpExchange exchange, String key) throws IOException {
        JsonNode body = JSON.readTree(exchange.getRequestBody());
        if (!"application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))
                || !body.hasNonNull("valueBase64")) {
            respond(exchange, 400, "{\"error\":{\"code\":\"bad_request\",\"message\":\"want JSON with valueBase64\"}}");
            return;
        }
        valuesByKey.put(key, body.get("valueBase64").binaryValue());
        long r = revision.incrementAndGet();
        respond(exchange, 200, "{\"revision\":" + r + ",\"kv\":{\"key\":\"" + key + "\",\"modRevision\":" + r + "}}");
    }

    private void get(HttpExchange exchange, String key) throws IOException {
        byte[] value = valuesByKey.get(key);
        if (value == null) {
            respond(exchange, 404, "{\"error\":{\"code\":\"key_not_found\",\"message\":\"no key " + key + "\"}}");
            return;
        }
        ObjectNode kv = JSON.createObjectNode().put("key", key).put("valueBase64", value);
        respond(exchange, 200, JSON.createObjectNode().put("revision", revision.get()).set("kv", kv).toString());
    }

    private static boolean authorized(HttpExchange exchange) throws IOException {
        if (("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            return true;
        }
        respond(exchange, 401, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"give the admin token\"}}");
        return false;
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
