package herd.it.lin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import herd.lincheck.workload.KvClient;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The lincheck workload's view of herd, over the real HTTP API. A 4xx is a definite "not applied";
 * anything else that is not a success (timeout, reset, 5xx) may have been applied and is thrown as
 * such. Connection refused moves to the next node: nothing was sent.
 */
final class HerdKvClient implements KvClient {
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> endpoints;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1))
        .version(HttpClient.Version.HTTP_1_1).build();
    private int current;

    /** @param endpoints API addresses, the preferred one first */
    HerdKvClient(List<String> endpoints, String token) {
        this.endpoints = new ArrayList<>(endpoints);
        this.token = token;
    }

    @Override
    public Written put(String key, String value) throws Exception {
        JsonNode body = expectOk(send("PUT", path(key), JSON.createObjectNode().put("value", value).toString()));
        return new Written(body.path("revision").asLong());
    }

    @Override
    public Read get(String key) throws Exception {
        Response response = send("GET", path(key), null);
        if (response.status() == 404) {
            return new Read(Optional.empty(), 0);
        }
        JsonNode kv = expectOk(response).path("kv");
        return new Read(Optional.of(kv.path("value").asText()), kv.path("modRevision").asLong());
    }

    @Override
    public CasResult cas(String key, long expectedModRevision, String value) throws Exception {
        Response response = send("PUT", path(key),
            JSON.createObjectNode().put("value", value).put("expectRevision", expectedModRevision).toString());
        if (response.status() == 409) {
            return new CasResult(false, response.body().path("revision").asLong());
        }
        return new CasResult(true, expectOk(response).path("revision").asLong());
    }

    @Override
    public Written delete(String key) throws Exception {
        return new Written(expectOk(send("DELETE", path(key), null)).path("revision").asLong());
    }

    private record Response(int status, JsonNode body) {}

    private static JsonNode expectOk(Response response) throws Exception {
        if (response.status() == 200) {
            return response.body();
        }
        if (response.status() >= 400 && response.status() < 500) {
            throw new RejectedException("HTTP " + response.status() + ": " + response.body());
        }
        throw new IOException("HTTP " + response.status() + " (may have been applied): " + response.body());
    }

    private Response send(String method, String path, String body) throws Exception {
        ConnectException refused = null;
        for (int attempt = 0; attempt < endpoints.size(); attempt++) {
            String endpoint = endpoints.get(current);
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + endpoint + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            try {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                JsonNode json = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
                return new Response(response.statusCode(), json);
            } catch (ConnectException e) {
                refused = e;
                current = (current + 1) % endpoints.size();
            }
        }
        throw refused;
    }

    private static String path(String key) {
        return "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8);
    }
}
