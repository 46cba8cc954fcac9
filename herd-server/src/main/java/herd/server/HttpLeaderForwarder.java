package herd.server;

import herd.control.EntryNotAppendedException;
import herd.control.LeaderForwarder;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Forwards a follower's write entries to the leader's {@code POST /v1/internal/entries} (see
 * {@link LeaderForwarder}), authenticated with the node token. The leader answers 421 when it is not
 * the ready leader; that, a leader whose API address this node does not know yet, and a connection
 * that could not be opened mean nothing was appended. The JDK client never resends a POST by itself,
 * so an entry reaches the leader at most once this way.
 */
final class HttpLeaderForwarder implements LeaderForwarder {
    static final String PATH = "/v1/internal/entries";

    private final HttpClient http;
    private final String nodeToken;
    private final Duration timeout;
    /** A server's API address by its name, from this node's replica of the cluster state. */
    private final Function<String, Optional<String>> apiAddressOf;

    HttpLeaderForwarder(String nodeToken, Duration connectTimeout, Duration timeout,
                        Function<String, Optional<String>> apiAddressOf) {
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1).build();
        this.nodeToken = nodeToken;
        this.timeout = timeout;
        this.apiAddressOf = apiAddressOf;
    }

    @Override
    public CompletableFuture<byte[]> forward(String leaderName, byte[] entry) {
        Optional<String> address = apiAddressOf.apply(leaderName);
        if (address.isEmpty()) {
            return CompletableFuture.failedFuture(new EntryNotAppendedException(
                "the API address of leader " + leaderName + " is not known here yet"));
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address.get() + PATH))
            .timeout(timeout)
            .header("Authorization", "Bearer " + nodeToken)
            .header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(entry))
            .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
            .handle((response, error) -> answer(leaderName, response, error));
    }

    private static byte[] answer(String leaderName, HttpResponse<byte[]> response, Throwable error) {
        if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof ConnectException) {
                throw new EntryNotAppendedException("cannot connect to leader " + leaderName + ": " + cause, cause);
            }
            throw new CompletionException(cause);
        }
        String text = new String(response.body(), StandardCharsets.UTF_8);
        return switch (response.statusCode()) {
            case 200 -> response.body();
            case 421 -> throw new EntryNotAppendedException("leader " + leaderName + " refused the entry: " + text);
            default -> throw new herd.control.ControlPlaneUnavailableException("leader " + leaderName + " answered HTTP "
                + response.statusCode() + " to a forwarded write: " + text + "; the command may or may not have been applied", null);
        };
    }
}
