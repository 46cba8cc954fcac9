package herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** A plain HTTP client of the herd API for tests: tries each endpoint until one answers. */
final class HttpKv {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

    private final List<String> endpoints;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
        .version(HttpClient.Version.HTTP_1_1).build();

    HttpKv(List<String> endpoints, String token) {
        this.endpoints = List.copyOf(endpoints);
        this.token = token;
    }

    record Reply(int status, JsonNode body) {
        long revision() {
            return body.path("revision").asLong();
        }

        String value() {
            return body.path("kv").path("value").asText();
        }

        long modRevision() {
            return body.path("kv").path("modRevision").asLong();
        }

        String errorCode() {
            return body.path("error").path("code").asText();
        }
    }

    static String keyPath(String key) {
        return "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/");
    }

    Reply put(String key, String value) throws IOException, InterruptedException {
        return send("PUT", keyPath(key), JSON.createObjectNode().put("value", value).toString(), token);
    }

    Reply cas(String key, long expectRevision, String value) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("value", value).put("expectRevision", expectRevision);
        return send("PUT", keyPath(key), body.toString(), token);
    }

    Reply get(String key) throws IOException, InterruptedException {
        return send("GET", keyPath(key), null, token);
    }

    Reply delete(String key) throws IOException, InterruptedException {
        return send("DELETE", keyPath(key), null, token);
    }

    Reply getJson(String path) throws IOException, InterruptedException {
        return send("GET", path, null, token);
    }

    Reply send(String method, String path, String body, String bearer) throws IOException, InterruptedException {
        IOException last = null;
        for (String endpoint : endpoints) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + endpoint + path)).timeout(REQUEST_TIMEOUT);
            if (bearer != null) {
                request.header("Authorization", "Bearer " + bearer);
            }
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            try {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                JsonNode json = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
                return new Reply(response.statusCode(), json);
            } catch (java.net.http.HttpTimeoutException e) {
                throw e;
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    boolean healthy() {
        try {
            return send("GET", "/v1/health", null, null).status() == 200;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Waits until some server reports a leader that answers a linearizable read. */
    String awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Reply status = getJson("/v1/status");
                if (status.status() == 200 && !status.body().path("leader").asText("-").equals("-")
                    && !status.body().path("cluster").asText().isEmpty()) {
                    return status.body().path("leader").asText();
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no leader within " + timeout);
    }

    /** Retries a write until it is acknowledged (a failover may be in progress); fails after the timeout. */
    Reply putUntilAcknowledged(String key, String value, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Reply reply = put(key, value);
                if (reply.status() == 200) {
                    return reply;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("put " + key + " not acknowledged: " + reply);
                }
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("put " + key + " not acknowledged", e);
                }
            }
            Thread.sleep(100);
        }
    }
}
