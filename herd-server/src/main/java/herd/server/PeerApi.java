package herd.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Calls from one node to another node's HTTP API, authenticated with the node token. */
public final class PeerApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String nodeToken;
    private final HttpClient http;

    public PeerApi(String nodeToken, Duration connectTimeout) {
        this.nodeToken = nodeToken;
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** An answer: status and JSON body. */
    public record Reply(int status, JsonNode body) {
        public boolean ok() {
            return status / 100 == 2;
        }

        public String errorMessage() {
            return body != null && body.has("error") ? body.path("error").path("message").asText() : "HTTP " + status;
        }
    }

    public Reply get(String address, String path, Duration timeout) throws IOException, InterruptedException {
        return send(address, path, "GET", null, timeout);
    }

    public Reply post(String address, String path, JsonNode body, Duration timeout) throws IOException, InterruptedException {
        return send(address, path, "POST", body, timeout);
    }

    public Reply send(String address, String path, String method, JsonNode body, Duration timeout)
        throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + address + path))
            .timeout(timeout)
            .header("Authorization", "Bearer " + nodeToken);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode json = response.body().length == 0 ? null : JSON.readTree(response.body());
        return new Reply(response.statusCode(), json);
    }
}
