package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Talks to a herd node's HTTP API. Given several endpoints, it tries them in order until one
 * answers, so the CLI keeps working while a node is down.
 *
 * <p>Over {@link HttpURLConnection}, not {@code java.net.http.HttpClient}: the API is plain HTTP/1.1,
 * and the newer client sets up TLS (the JDK's trusted certificates) and a selector thread when it is
 * built, which cost every CLI command about 0.2 s of a start that is most of its time.
 */
public final class ApiClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The node's answer to a refused token. HttpURLConnection drops the body of a 401 answer to a
     * request whose body it streamed (it would have to send it again with credentials), so the
     * node's message for it is written here.
     */
    private static final JsonNode TOKEN_REFUSED = JSON.createObjectNode().set("error", JSON.createObjectNode()
        .put("code", "unauthorized")
        .put("message", "missing or wrong token: give the admin token from the data directory's admin.token "
            + "(--token-file FILE or --token TOKEN, HERD_TOKEN_FILE or HERD_TOKEN; on a server, --data DIR)"));

    private final List<String> endpoints;
    private final String token;

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
            HttpURLConnection connection;
            try {
                connection = connect(endpoint, "GET", pathAndQuery, null);
            } catch (IOException e) {
                last = unreachable(endpoint, e);
                continue;
            }
            try {
                int status = connection.getResponseCode(); // no read timeout: a watch waits for changes
                if (status != 200) {
                    throw Failures.fromResponse(new Response(status, parse(errorBody(connection))));
                }
                return connection.getInputStream();
            } catch (IOException e) {
                last = unreachable(endpoint, e);
            }
        }
        throw last;
    }

    private Response send(String method, String pathAndQuery, JsonNode body) {
        // Everything but a GET goes with a body, empty if need be: HttpURLConnection silently sends a
        // request again when its connection fails before the answer, unless the body was streamed,
        // and a change sent twice may be applied twice (a snapshot taken twice).
        byte[] bytes = body != null ? json(body) : method.equals("GET") ? null : new byte[0];
        CliException last = null;
        for (String endpoint : endpoints) {
            HttpURLConnection connection;
            try {
                connection = connect(endpoint, method, pathAndQuery, bytes);
            } catch (IOException e) { // the request did not get through whole: another endpoint may take it
                last = unreachable(endpoint, e);
                continue;
            }
            try {
                connection.setReadTimeout((int) REQUEST_TIMEOUT.toMillis());
                int status = connection.getResponseCode();
                byte[] answer = status >= 400 ? errorBody(connection) : readAll(connection.getInputStream());
                return new Response(status, answer.length == 0 && status == 401 ? TOKEN_REFUSED : parse(answer));
            } catch (SocketTimeoutException e) {
                // the request may have been applied: don't send it elsewhere
                throw new CliException(ExitCode.UNAVAILABLE, endpoint + " did not answer within " + REQUEST_TIMEOUT.toSeconds()
                    + " s; the request may or may not have taken effect: check, then retry");
            } catch (IOException e) {
                if (bytes != null) { // a change went out whole and may have been applied: not sent elsewhere either
                    throw new CliException(ExitCode.UNAVAILABLE, "the connection to " + endpoint + " failed before its answer ("
                        + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                        + "); the request may or may not have taken effect: check, then retry");
                }
                last = unreachable(endpoint, e);
            }
        }
        throw last;
    }

    /** Connects to {@code endpoint} and sends the request line, headers and body; the answer is read from it. */
    private HttpURLConnection connect(String endpoint, String method, String pathAndQuery, byte[] body) throws IOException {
        // no proxy, as for a node on this network; redirects are not followed (the API sends none)
        HttpURLConnection connection = (HttpURLConnection) URI.create("http://" + endpoint + pathAndQuery).toURL()
            .openConnection(Proxy.NO_PROXY);
        connection.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
        connection.setInstanceFollowRedirects(false);
        connection.setUseCaches(false);
        connection.setRequestMethod(method);
        if (token != null) {
            connection.setRequestProperty("Authorization", "Bearer " + token);
        }
        if (body == null) {
            connection.connect();
            return connection;
        }
        if (body.length > 0) {
            connection.setRequestProperty("Content-Type", "application/json");
        }
        connection.setDoOutput(true);
        connection.setFixedLengthStreamingMode(body.length); // a streamed request is never sent again
        try (OutputStream out = connection.getOutputStream()) {
            out.write(body);
        }
        return connection;
    }

    private static byte[] errorBody(HttpURLConnection connection) throws IOException {
        InputStream error = connection.getErrorStream();
        return error == null ? new byte[0] : readAll(error);
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    private static byte[] json(JsonNode body) {
        try {
            return JSON.writeValueAsBytes(body);
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
