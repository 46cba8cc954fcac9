package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.blockcore.placement.Ring;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.storage.StorageNodeView;
import herd.server.ClusterAccess;
import herd.server.storage.NodeStorage;
import herd.server.storage.ObjectWire;
import java.io.IOException;

/**
 * Storage over HTTP: {@code GET /v1/storage/status} (every storage node: zone, vnodes, capacity,
 * use, recovery), {@code GET /v1/storage/local} (this node only), {@code POST /v1/storage/format}
 * (the default copies), and the node-to-node object protocol ({@link ObjectWire}).
 */
final class StorageHandlers {
    private final ClusterAccess cluster;
    private final NodeStorage storage;

    StorageHandlers(ClusterAccess cluster, NodeStorage storage) {
        this.cluster = cluster;
        this.storage = storage;
    }

    /** @return false when the path is not a storage path */
    boolean handle(ApiServer.Request request) throws ApiException, IOException {
        String path = request.path();
        if (path.equals(ObjectWire.CHANNEL_PATH)) {
            request.requireMethod("GET");
            ObjectWire.answerChannelPort(request.exchange(), storage.objectChannelPort());
            return true;
        }
        if (ObjectWire.handles(path)) {
            ObjectWire.serve(request.exchange(), storage.objectService());
            return true;
        }
        switch (path) {
            case "/v1/storage/local" -> {
                request.requireMethod("GET");
                ApiServer.Responses.json(request.exchange(), 200, storage.localStatus());
            }
            case "/v1/storage/status" -> {
                request.requireMethod("GET");
                ApiServer.Responses.json(request.exchange(), 200, clusterStatus(request.linearizable()));
            }
            case "/v1/storage/format" -> {
                request.requireMethod("POST");
                format(request);
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void format(ApiServer.Request request) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        if (!body.path("copies").canConvertToInt() || !body.path("copies").isIntegralNumber()) {
            throw ApiException.badRequest("give the default copies as a whole number: {\"copies\": 2}");
        }
        Outcome outcome = cluster.submit(new Command.SetStorageDefaults(body.path("copies").asInt()));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        ApiServer.Responses.json(request.exchange(), 200, clusterStatus(true)); // shows the format just made
    }

    /** The map from the cluster state, with each node's own report of its store and recovery. */
    private ObjectNode clusterStatus(boolean linearizable) throws ApiException {
        QueryResult.StorageMap map = (QueryResult.StorageMap) cluster.query(new Query.StorageMap(), linearizable);
        ObjectNode status = JsonViews.object();
        status.put("epoch", map.current().epoch()).put("defaultCopies", map.defaultCopies());
        Ring ring = map.current().ring();
        status.put("zones", ring.zoneCount());
        ArrayNode nodes = status.putArray("nodes");
        for (StorageNodeView node : map.nodes()) {
            ObjectNode row = nodes.addObject();
            row.put("name", node.name()).put("zone", node.zone()).put("address", node.apiAddress())
                .put("membership", node.membership()).put("inEpoch", map.current().hasMember(node.name()))
                .put("vnodes", map.current().hasMember(node.name()) ? Ring.vnodesFor(node.capacityBytes()) : 0)
                .put("capacityBytes", node.capacityBytes())
                .put("recoveredEpoch", map.recoveredEpochs().getOrDefault(node.name(), -1L));
            ArrayNode cutOffBy = row.putArray("cutOffBy"); // the nodes that cannot reach its data path, if it is cut off
            node.cutOffBy().forEach(cutOffBy::add);
            row.put("stall", node.stall().isEmpty() ? null : node.stall()); // its own word that its store does not answer
            storage.peerStatus(map, node.name()).ifPresentOrElse(local -> row.set("local", local),
                () -> row.put("local", (String) null));
        }
        return status;
    }
}
