package herd.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import herd.core.ErrorCode;
import herd.server.api.ApiException;
import herd.server.api.Authenticator;
import herd.server.api.JsonViews;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server-to-be that holds the cluster secret but no cluster yet: it answers health checks
 * ("waiting") and one call, {@code POST /v1/internal/adopt}, by which a cluster member (running
 * {@code herd server add}) hands it the cluster's coordinates. Only holders of the cluster secret
 * can make that call.
 */
final class WaitingNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WaitingNode.class);

    private final String name;
    private final String apiAddress;
    private final String raftAddress;
    private final String zone;
    private final DataDir dataDir;
    private final Authenticator nodesOnly;
    private final HttpServer http;
    private final CompletableFuture<NodeConfig> adopted = new CompletableFuture<>();
    private NodeConfig adoptedConfig;

    WaitingNode(String name, String apiAddress, String raftAddress, String zone, DataDir dataDir, String nodeToken)
        throws IOException {
        this.name = name;
        this.apiAddress = apiAddress;
        this.raftAddress = raftAddress;
        this.zone = zone;
        this.dataDir = dataDir;
        this.nodesOnly = new Authenticator(nodeToken, nodeToken);
        disableNagle();
        this.http = HttpServer.create(Daemon.socketAddress(apiAddress), 16);
        this.http.createContext("/", this::handle);
    }

    /** Serves until adopted; returns the configuration the node was given (already written to disk). */
    NodeConfig awaitAdoption() throws InterruptedException {
        http.start();
        log.info("{} is waiting to be added: on the cluster run 'herd server add {} {}'", name, name, apiAddress);
        try {
            return adopted.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            try {
                if (path.equals("/v1/health")) {
                    reply(exchange, 200, JsonViews.object().put("status", adopted.isDone() ? "joining" : "waiting")
                        .put("node", name).put("raftAddress", raftAddress));
                } else if (path.equals("/v1/internal/adopt") && exchange.getRequestMethod().equals("POST")) {
                    if (!nodesOnly.allows(exchange.getRequestHeaders().getFirst("Authorization"))) {
                        throw new ApiException(401, ErrorCode.UNAUTHORIZED, "only a member of the cluster (holding its secret) can add this node");
                    }
                    NodeConfig config = adopt(JsonViews.MAPPER.readTree(exchange.getRequestBody()));
                    reply(exchange, 200, JsonViews.object().put("result", "joining"));
                    // only now: completing lets the daemon close this listener and start the server
                    adopted.complete(config);
                } else {
                    throw new ApiException(503, ErrorCode.UNAVAILABLE, name + " is not part of a cluster yet: add it with 'herd server add "
                        + name + " " + apiAddress + "'");
                }
            } catch (ApiException e) {
                reply(exchange, e.status(), JsonViews.error(e.code(), e.getMessage()));
            }
        }
    }

    private synchronized NodeConfig adopt(JsonNode request) throws ApiException, IOException {
        if (adoptedConfig != null) {
            return adoptedConfig;
        }
        if (!name.equals(request.path("name").asText()) || !raftAddress.equals(request.path("raftAddress").asText())) {
            throw new ApiException(409, ErrorCode.MEMBERSHIP_REFUSED, "this node is " + name + " with Raft address " + raftAddress);
        }
        Map<String, String> peers = new LinkedHashMap<>();
        request.path("raftPeers").fields().forEachRemaining(entry -> peers.put(entry.getKey(), entry.getValue().asText()));
        NodeConfig config = new NodeConfig(name, NodeConfig.SERVER, request.path("clusterName").asText(), apiAddress, raftAddress,
            zone, request.path("groupId").asText(), false, peers, List.of(), null, null,
            request.path("electionTimeoutMinMillis").asLong(), request.path("electionTimeoutMaxMillis").asLong(),
            request.path("snapshotThresholdEntries").asLong());
        dataDir.writeAdminToken(request.path("adminToken").asText());
        dataDir.writeConfig(config);
        log.info("{} was adopted by cluster {}; starting as a server", name, config.clusterName());
        adoptedConfig = config;
        return config;
    }

    private static void reply(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JsonViews.MAPPER.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }

    /**
     * The JDK's HTTP server leaves Nagle's algorithm on by default: an answer written as headers then
     * body waits for the client's delayed ACK (about 40 ms) before its second part leaves. Read once,
     * when the JDK's server configuration loads.
     */
    private static void disableNagle() {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }
}
