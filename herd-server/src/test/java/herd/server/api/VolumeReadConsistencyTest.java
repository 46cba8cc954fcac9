package herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import herd.core.ErrorCode;
import herd.core.Rejection;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.server.ClusterAccess;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which reads the volume API makes: linearizable unless the caller asks for a local one (as every
 * other read of the API), and linearizable after a change, so that a volume just created is found
 * even through a server that has not applied its creation yet.
 */
class VolumeReadConsistencyTest {
    /** The reads the handlers made, as "QueryName linearizable|local". */
    private final List<String> reads = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        VolumeHandlers handlers = new VolumeHandlers(recordingCluster(), null, null);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try {
                handlers.handle(ApiServer.Request.of(exchange));
            } catch (ApiException e) {
                ApiServer.Responses.error(exchange, e);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Answers reads as a cluster without volumes, and records how each was asked for. */
    private ClusterAccess recordingCluster() {
        return (ClusterAccess) Proxy.newProxyInstance(ClusterAccess.class.getClassLoader(),
                new Class<?>[] {ClusterAccess.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "query" -> {
                        reads.add(args[0].getClass().getSimpleName() + " " + ((boolean) args[1] ? "linearizable" : "local"));
                        yield switch ((Query) args[0]) {
                            case Query.Volumes volumes -> new QueryResult.VolumeList(List.of());
                            case Query.VolumeTree tree -> new QueryResult.VolumeForest(List.of());
                            default -> new QueryResult.Refused(new Rejection(ErrorCode.NOT_FOUND, "no such volume"));
                        };
                    }
                    case "submit" -> new Outcome.Applied("created");
                    default -> throw new UnsupportedOperationException(method.getName() + " is not used by these requests");
                });
    }

    private int request(String method, String pathAndQuery, String body) throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort() + pathAndQuery));
        builder.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(builder.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void readsAreLinearizableUnlessALocalReadIsAskedFor() throws Exception {
        assertThat(request("GET", "/v1/volumes", null)).isEqualTo(200);
        assertThat(request("GET", "/v1/volumes/tree", null)).isEqualTo(200);
        assertThat(request("GET", "/v1/volumes/vm1", null)).isEqualTo(404);
        assertThat(reads).containsExactly("Volumes linearizable", "VolumeTree linearizable", "VolumeInfo linearizable");

        reads.clear();
        assertThat(request("GET", "/v1/volumes?consistency=local", null)).isEqualTo(200);
        assertThat(request("GET", "/v1/volumes/tree?consistency=local", null)).isEqualTo(200);
        assertThat(request("GET", "/v1/volumes/vm1?consistency=local", null)).isEqualTo(404);
        assertThat(reads).containsExactly("Volumes local", "VolumeTree local", "VolumeInfo local");
    }

    @Test
    void theAnswerToACreationReadsTheVolumeLinearizably() throws Exception {
        request("POST", "/v1/volumes", "{\"name\": \"vm1\", \"sizeBytes\": \"1G\"}");

        assertThat(reads).containsExactly("VolumeInfo linearizable");
    }
}
