package herd.server;

import herd.control.ControlPlaneUnavailableException;
import herd.control.EntryNotAppendedException;
import herd.control.LeaderForwarder;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;

/**
 * Forwards a follower's write entries to a leader that offers no {@link EntryChannel} (an older
 * version) with {@code POST /v1/internal/entries} (see
 * {@link LeaderForwarder}), authenticated with the node token, each on a virtual thread of its own
 * with a blocking keep-alive connection. The leader answers 421 when it is not the ready leader;
 * that, a leader whose API address this node does not know yet, and a connection that could not be
 * had mean nothing was appended. The client never resends a request by itself, so an entry reaches
 * the leader at most once this way.
 */
final class HttpLeaderForwarder implements LeaderForwarder, AutoCloseable {
    static final String PATH = "/v1/internal/entries";
    /**
     * As many as a follower has entries in flight (ControlPlaneNode.FORWARDED_ENTRIES_IN_FLIGHT_MAX):
     * an entry that found none free in time would count as not appended and wait to be sent again.
     */
    private static final int CONNECTIONS_PER_LEADER = 16;

    private final CloseableHttpClient http;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final String nodeToken;
    /** A server's API address by its name, from this node's replica of the cluster state. */
    private final Function<String, Optional<String>> apiAddressOf;

    HttpLeaderForwarder(String nodeToken, Duration connectTimeout, Duration timeout,
                        Function<String, Optional<String>> apiAddressOf) {
        this.http = PeerHttpClients.create(CONNECTIONS_PER_LEADER, connectTimeout, timeout, connectTimeout);
        this.nodeToken = nodeToken;
        this.apiAddressOf = apiAddressOf;
    }

    @Override
    public CompletableFuture<byte[]> forward(String leaderName, byte[] entry) {
        Optional<String> address = apiAddressOf.apply(leaderName);
        if (address.isEmpty()) {
            return addressUnknown(leaderName);
        }
        HttpPost request = new HttpPost(URI.create("http://" + address.get() + PATH));
        request.setHeader("Authorization", "Bearer " + nodeToken);
        request.setEntity(new ByteArrayEntity(entry, ContentType.APPLICATION_OCTET_STREAM));
        return CompletableFuture.supplyAsync(() -> post(leaderName, request), calls);
    }

    /** The answer to an entry for a leader whose API address this node's replica does not hold yet. */
    static CompletableFuture<byte[]> addressUnknown(String leaderName) {
        return CompletableFuture.failedFuture(new EntryNotAppendedException(
            "the API address of leader " + leaderName + " is not known here yet"));
    }

    private byte[] post(String leaderName, HttpPost request) {
        try {
            return http.execute(request, response -> {
                byte[] body = response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
                return switch (response.getCode()) {
                    case 200 -> body;
                    case 421 -> throw new EntryNotAppendedException("leader " + leaderName + " refused the entry: "
                        + new String(body, StandardCharsets.UTF_8));
                    default -> throw new ControlPlaneUnavailableException("leader " + leaderName + " answered HTTP "
                        + response.getCode() + " to a forwarded write: " + new String(body, StandardCharsets.UTF_8)
                        + "; the command may or may not have been applied", null);
                };
            });
        } catch (ConnectException | ConnectionRequestTimeoutException e) {
            throw new EntryNotAppendedException("cannot connect to leader " + leaderName + ": " + e, e);
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    @Override
    public void close() throws IOException {
        calls.shutdownNow();
        http.close();
    }
}
