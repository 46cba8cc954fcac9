package herd.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * herd through its HTTP/JSON API (docs/api.md): {@code PUT /v1/kv/{key}} with {@code valueBase64},
 * {@code GET /v1/kv/{key}} (linearizable by default), {@code GET /v1/servers} to find the leader.
 * One HttpClient per member, shared by the client threads that talk to it; over HTTP/1.1 with keep-alive
 * it holds one connection per request in flight, so each client thread ends up with its own connection.
 */
final class HerdSystem implements KvSystem {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String bearerToken;
    private final Duration requestTimeout;
    private final Map<String, HttpClient> httpClientsByMemberName = new ConcurrentHashMap<>();

    HerdSystem(String bearerToken, Duration requestTimeout) {
        this.bearerToken = bearerToken;
        this.requestTimeout = requestTimeout;
    }

    @Override
    public String label() {
        return "herd";
    }

    @Override
    public KvClient clientFor(Member member) {
        return herdClientFor(member);
    }

    private HerdKvClient herdClientFor(Member member) {
        return new HerdKvClient(httpClient(member), URI.create("http://" + member.hostPort()), bearerToken, requestTimeout);
    }

    private HttpClient httpClient(Member member) {
        return httpClientsByMemberName.computeIfAbsent(member.name(), name -> HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build());
    }

    /** Asks each member for {@code GET /v1/servers} until one names a server in state LEADER. */
    @Override
    public String leaderName(List<Member> members) throws Exception {
        Exception lastFailure = null;
        for (Member member : members) {
            try {
                String leader = leaderIn(herdClientFor(member).getJson("/v1/servers"));
                if (leader != null) {
                    return leader;
                }
            } catch (Exception e) {
                lastFailure = e; // down or restarting: ask the next member
            }
        }
        throw new IllegalStateException("no herd member names a leader in GET /v1/servers"
                + (lastFailure == null ? "" : "; last failure: " + lastFailure.getMessage()));
    }

    /** Accepts the rows either as a bare JSON array or under "servers". */
    private static String leaderIn(JsonNode servers) {
        JsonNode rows = servers.isArray() ? servers : servers.path("servers");
        for (JsonNode row : rows) {
            if ("leader".equalsIgnoreCase(row.path("state").asText())) {
                return row.path("name").asText();
            }
        }
        return null;
    }

    @Override
    public void close() {
        httpClientsByMemberName.values().forEach(HttpClient::close);
    }

    /** Thrown for any answer other than the expected status; carries herd's JSON error body. */
    static final class HerdRequestFailed extends IOException {
        HerdRequestFailed(String request, int status, String body) {
            super(request + " answered HTTP " + status + ": " + body);
        }
    }

    private record HerdKvClient(HttpClient http, URI base, String bearerToken, Duration requestTimeout)
            implements KvClient {

        @Override
        public void put(String key, byte[] value) throws Exception {
            HttpResponse<String> response = http.send(putRequest(key, value), HttpResponse.BodyHandlers.ofString());
            requireStatus("PUT /v1/kv/" + key, response, 200);
        }

        @Override
        public CompletableFuture<?> putAsync(String key, byte[] value) {
            return http.sendAsync(putRequest(key, value), HttpResponse.BodyHandlers.ofString())
                    .thenApply(response -> {
                        if (response.statusCode() != 200) {
                            throw new IllegalStateException("PUT /v1/kv/" + key + " answered HTTP "
                                    + response.statusCode() + ": " + response.body());
                        }
                        return response;
                    });
        }

        @Override
        public byte[] get(String key) throws Exception {
            HttpResponse<String> response = http.send(request("/v1/kv/" + checkedKey(key)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 404) {
                return null;
            }
            requireStatus("GET /v1/kv/" + key, response, 200);
            return valueOf(JSON.readTree(response.body()).path("kv"));
        }

        JsonNode getJson(String path) throws Exception {
            HttpResponse<String> response = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
            requireStatus("GET " + path, response, 200);
            return JSON.readTree(response.body());
        }

        private HttpRequest putRequest(String key, byte[] value) {
            String body = "{\"valueBase64\":\"" + Base64.getEncoder().encodeToString(value) + "\"}";
            return request("/v1/kv/" + checkedKey(key))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                    .build();
        }

        private HttpRequest.Builder request(String path) {
            return HttpRequest.newBuilder(base.resolve(path))
                    .timeout(requestTimeout)
                    .header("Authorization", "Bearer " + bearerToken);
        }

        /** The benchmark's keys are letters and digits, so they go into the path without percent-encoding. */
        private static String checkedKey(String key) {
            for (int i = 0; i < key.length(); i++) {
                if (!Character.isLetterOrDigit(key.charAt(i)) || key.charAt(i) > 127) {
                    throw new IllegalArgumentException("benchmark key '" + key + "' must be ASCII letters and digits");
                }
            }
            return key;
        }

        /** herd answers {@code value} for UTF-8 text and {@code valueBase64} otherwise. */
        private static byte[] valueOf(JsonNode kv) {
            if (kv.hasNonNull("valueBase64")) {
                return Base64.getDecoder().decode(kv.get("valueBase64").asText());
            }
            if (kv.hasNonNull("value")) {
                return kv.get("value").asText().getBytes(StandardCharsets.UTF_8);
            }
            throw new IllegalStateException("GET answered a kv without value or valueBase64: " + kv);
        }

        private static void requireStatus(String request, HttpResponse<String> response, int expected)
                throws HerdRequestFailed {
            if (response.statusCode() != expected) {
                throw new HerdRequestFailed(request, response.statusCode(), response.body());
            }
        }
    }
}
