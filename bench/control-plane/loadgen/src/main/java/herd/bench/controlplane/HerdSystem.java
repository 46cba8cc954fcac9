package herd.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPut;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * herd through its HTTP/JSON API (docs/api.md): {@code PUT /v1/kv/{key}} with {@code valueBase64},
 * {@code GET /v1/kv/{key}} (linearizable by default), {@code GET /v1/servers} to find the leader.
 * One blocking HTTP/1.1 client (Apache HttpClient, classic API) with keep-alive connections, shared by
 * the client threads: each request runs on its caller's thread and holds one pooled connection, so each
 * client thread ends up with its own connection. (The JDK's HttpClient hands every request through its
 * selector and executor threads; on a 2-core machine that overhead took CPU from the servers measured.)
 * Asynchronous puts (failover) each run on a virtual thread.
 */
final class HerdSystem implements KvSystem {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String bearerToken;
    private final Duration requestTimeout;
    /** Enough for every client thread and the failover's outstanding writes (128 per survivor). */
    private static final int MAX_CONNECTIONS = 512;

    private final CloseableHttpClient http;
    private final ExecutorService asyncPuts = Executors.newVirtualThreadPerTaskExecutor();

    HerdSystem(String bearerToken, Duration requestTimeout) {
        this.bearerToken = bearerToken;
        this.requestTimeout = requestTimeout;
        this.http = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setMaxConnPerRoute(MAX_CONNECTIONS)
                        .setMaxConnTotal(MAX_CONNECTIONS)
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.ofSeconds(2))
                                .setSocketTimeout(Timeout.of(requestTimeout))
                                .build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(Timeout.of(requestTimeout)).build())
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableContentCompression()
                .build();
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
        return new HerdKvClient(http, asyncPuts, URI.create("http://" + member.hostPort()), bearerToken);
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
        asyncPuts.shutdownNow();
        try {
            http.close();
        } catch (IOException e) {
            // connections of a finished run: nothing to do
        }
    }

    /** Thrown for any answer other than the expected status; carries herd's JSON error body. */
    static final class HerdRequestFailed extends IOException {
        HerdRequestFailed(String request, int status, String body) {
            super(request + " answered HTTP " + status + ": " + body);
        }
    }

    /** A status and the body as text. */
    private record Answer(int status, String body) { }

    private record HerdKvClient(CloseableHttpClient http, ExecutorService asyncPuts, URI base, String bearerToken)
            implements KvClient {

        @Override
        public void put(String key, byte[] value) throws Exception {
            requireStatus("PUT /v1/kv/" + key, send(putRequest(key, value)), 200);
        }

        @Override
        public CompletableFuture<?> putAsync(String key, byte[] value) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    Answer answer = send(putRequest(key, value));
                    if (answer.status() != 200) {
                        throw new IllegalStateException("PUT /v1/kv/" + key + " answered HTTP " + answer.status() + ": "
                                + answer.body());
                    }
                    return answer;
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, asyncPuts);
        }

        @Override
        public byte[] get(String key) throws Exception {
            Answer answer = send(request(new HttpGet(base.resolve("/v1/kv/" + checkedKey(key)))));
            if (answer.status() == 404) {
                return null;
            }
            requireStatus("GET /v1/kv/" + key, answer, 200);
            return valueOf(JSON.readTree(answer.body()).path("kv"));
        }

        JsonNode getJson(String path) throws Exception {
            Answer answer = send(request(new HttpGet(base.resolve(path))));
            requireStatus("GET " + path, answer, 200);
            return JSON.readTree(answer.body());
        }

        private Answer send(HttpUriRequestBase request) throws IOException {
            return http.execute(request, response -> new Answer(response.getCode(),
                    response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8)));
        }

        private HttpUriRequestBase putRequest(String key, byte[] value) {
            String body = "{\"valueBase64\":\"" + Base64.getEncoder().encodeToString(value) + "\"}";
            HttpPut put = new HttpPut(base.resolve("/v1/kv/" + checkedKey(key)));
            put.setEntity(new StringEntity(body, ContentType.create("application/json"))); // ASCII: base64 in JSON
            return request(put);
        }

        private HttpUriRequestBase request(HttpUriRequestBase request) {
            request.setHeader("Authorization", "Bearer " + bearerToken);
            return request;
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

        private static void requireStatus(String request, Answer answer, int expected) throws HerdRequestFailed {
            if (answer.status() != expected) {
                throw new HerdRequestFailed(request, answer.status(), answer.body());
            }
        }
    }
}
