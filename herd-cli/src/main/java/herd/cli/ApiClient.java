package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;

/**
 * Talks to a herd node's HTTP API. Given several endpoints, it tries them in order until one
 * answers, so the CLI keeps working while a node is down.
 */
public final class ApiClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> endpoints;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder()
        .connectTimeout(CONNECT_TIMEOUT)
        .version(HttpClient.Version.HTTP_1_1)
        .build();

    public ApiClient(List<String> endpoints, String token) {
        if (endpoints.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "no endpoint: give --endpoint HOST:PORT, set HERD_ENDPOINT, or --data DIR of a node");
        }
        this.endpoints = List.copyOf(endpoints);
        this.token = token;
    }

    /** The answer of a call: HTTP status and JSON body (null when the body was empty). */
    public record Response(int status, JsonNode body) {
        public boolean ok() {
            return status / 100 == 2;
        }

        public String errorCode() {
            return body != null && body.has("error") ? body.get("error").path("code").asText() : "http_" + status;
        }

        public String errorMessage() {
            return body != null && body.has("error") ? body.get("error").path("message").asText() : "HTTP status " + status;
        }
    }

    public Response get(String pathAndQuery) {
        return send("GET", pathAndQuery, null);
    }

    public Response delete(String pathAndQuery) {
        return send("DELETE", pathAndQuery, null);
    }

    public Response put(String path, JsonNode body) {
        return send("PUT", path, body);
    }

    public Response post(String path, JsonNode body) {
        return send("POST", path, body);
    }

    /** Opens a streaming GET (watch); the caller reads lines until it closes the stream. */
    public InputStream stream(String pathAndQuery) {
        CliException last = null;
        for (String endpoint : endpoints) {
            try {
                HttpResponse<InputStream> response = http.send(request(endpoint, "GET", pathAndQuery, null).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                    try (InputStream body = response.body()) {
                        Response error = new Response(response.statusCode(), parse(body.readAllBytes()));
                        throw Failures.fromResponse(error);
                    }
                }
                return response.body();
            } catch (ConnectException | HttpConnectTimeoutException e) {
                last = unreachable(endpoint, e);
            } catch (IOException e) {
                last = unreachable(endpoint, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCode.FAILURE, "interrupted");
            }
        }
        throw last;
    }

    private Response send(String method, String pathAndQuery, JsonNode body) {
        CliException last = null;
        for (String endpoint : endpoints) {
            try {
                HttpRequest request = request(endpoint, method, pathAndQuery, body).timeout(REQUEST_TIMEOUT).build();
                HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                return new Response(response.statusCode(), parse(response.body()));
            } catch (HttpTimeoutException e) {
                // the request may have been applied: don't send it elsewhere
                throw new CliException(ExitCode.UNAVAILABLE, endpoint + " did not answer within " + REQUEST_TIMEOUT.toSeconds()
                    + " s; the request may or may not have taken effect: check, then retry");
            } catch (IOException e) {
                last = unreachable(endpoint, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCode.FAILURE, "interrupted");
            }
        }
        throw last;
    }

    private HttpRequest.Builder request(String endpoint, String method, String pathAndQuery, JsonNode body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://" + endpoint + pathAndQuery));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        if (body == null) {
            return builder.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            return builder.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(new String(body, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static CliException unreachable(String endpoint, Exception e) {
        return new CliException(ExitCode.UNAVAILABLE, "cannot reach " + endpoint + " (" + e.getClass().getSimpleName()
            + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "): is the node running? try another --endpoint");
    }
}
