package herd.server;

import com.fasterxml.jackson.databind.JsonNode;
import herd.control.ClusterSecret;
import herd.core.cluster.NameRules;
import herd.server.api.JsonViews;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code herd join}: makes this machine a worker of a running cluster. It registers itself with any
 * server (proving membership with the node token derived from the cluster secret) and stores what
 * it is told: the Raft group and servers to reach, and the admin token.
 */
public final class Join {
    private Join() {}

    public record Request(String name, String apiAddress, String zone, Path secretFile, List<String> serverApiAddresses) {}

    public static NodeConfig run(DataDir dataDir, Request request) throws IOException, InterruptedException {
        var invalid = NameRules.checkName("node", request.name()).or(() -> NameRules.checkAddress("API", request.apiAddress()));
        if (invalid.isPresent()) {
            throw new IllegalArgumentException(invalid.get().message());
        }
        if (dataDir.isInitialised()) {
            throw new IllegalArgumentException(dataDir.root() + " already holds node '" + dataDir.readConfig().name()
                + "': start it with 'herd agent --data " + dataDir.root() + "'");
        }
        byte[] secret = Files.readAllBytes(request.secretFile());
        ClusterSecret.fromBytes(secret);
        PeerApi peers = new PeerApi(NodeToken.fromClusterSecret(secret), Duration.ofSeconds(3));
        JsonNode joined = register(peers, request);
        Map<String, String> raftPeers = new LinkedHashMap<>();
        joined.path("raftPeers").fields().forEachRemaining(e -> raftPeers.put(e.getKey(), e.getValue().asText()));
        List<String> serverApis = new ArrayList<>();
        joined.path("serverApiAddresses").forEach(a -> serverApis.add(a.asText()));
        dataDir.create();
        dataDir.writeClusterSecret(secret);
        dataDir.writeAdminToken(joined.path("adminToken").asText());
        NodeConfig config = new NodeConfig(request.name(), NodeConfig.WORKER, joined.path("clusterName").asText(),
            request.apiAddress(), null, request.zone(), joined.path("groupId").asText(), false, raftPeers, serverApis,
            null, null, 0, 0, 0);
        dataDir.writeConfig(config);
        return config;
    }

    private static JsonNode register(PeerApi peers, Request request) throws InterruptedException {
        List<String> failures = new ArrayList<>();
        for (String server : request.serverApiAddresses()) {
            try {
                PeerApi.Reply reply = peers.post(server, "/v1/nodes", JsonViews.object().put("name", request.name())
                    .put("address", request.apiAddress()).put("zone", request.zone()), Duration.ofSeconds(30));
                if (reply.ok()) {
                    return reply.body();
                }
                if (reply.status() == 401) {
                    throw new IllegalArgumentException(server + " refused the cluster secret: copy cluster.secret from a server of that cluster");
                }
                throw new IllegalArgumentException(server + " refused the join: " + reply.errorMessage());
            } catch (IOException e) {
                failures.add(server + ": " + e);
            }
        }
        throw new IllegalStateException("no server could be reached to join (" + String.join("; ", failures) + ")");
    }
}
