package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.core.ErrorCode;
import herd.core.cluster.NameRules;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.volume.VolumeRecord;
import herd.core.volume.VolumeRow;
import herd.coordinator.StatusReport;
import herd.server.ClusterAccess;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/** Cluster-level endpoints: status, servers (membership), nodes, backup. */
final class ClusterHandlers {
    private final ClusterAccess cluster;
    /** The port of this server's entry channel (see {@link #serveEntryChannel}); 0: it has none. */
    private volatile int entryChannelPort;

    ClusterHandlers(ClusterAccess cluster) {
        this.cluster = cluster;
    }

    /** Names the port other servers forward their writes to while this one leads (herd.server.EntryChannel). */
    void serveEntryChannel(int port) {
        this.entryChannelPort = port;
    }

    void handle(ApiServer.Request request, String path) throws ApiException, IOException {
        String[] parts = path.split("/", -1);
        String method = request.method();
        switch (parts[0]) {
            case "status" -> {
                request.requireMethod("GET");
                status(request);
            }
            case "self" -> {
                request.requireMethod("GET");
                ApiServer.Responses.json(request.exchange(), 200, self(cluster.self()));
            }
            case "nodes" -> {
                if (parts.length == 2 && method.equals("DELETE")) {
                    removeWorker(request, parts[1]);
                } else if (method.equals("POST")) {
                    registerWorker(request);
                } else {
                    request.requireMethod("GET");
                    nodes(request);
                }
            }
            case "internal" -> {
                if (parts.length == 2 && parts[1].equals("entries")) {
                    request.requireMethod("POST");
                    appendForwarded(request);
                } else if (parts.length == 3 && parts[1].equals("entries") && parts[2].equals("channel")
                    && entryChannelPort != 0) {
                    request.requireMethod("GET");
                    ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("port", entryChannelPort));
                } else {
                    throw new ApiException(404, ErrorCode.NOT_FOUND, "no such path /v1/" + path + ": see docs/api.md");
                }
            }
            case "backup" -> {
                request.requireMethod("GET");
                backup(request);
            }
            case "servers" -> {
                if (parts.length == 1 && method.equals("GET")) {
                    servers(request);
                } else if (parts.length == 1 && method.equals("POST")) {
                    addServer(request);
                } else if (parts.length == 2 && method.equals("DELETE")) {
                    boolean force = request.flag("force");
                    refuseWhileResourcesActive(parts[1]);
                    refuseWhileVolumesAttached(parts[1]);
                    refuseLosingLastCopies(parts[1], force);
                    cluster.removeServer(parts[1]);
                    ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", "removed server " + parts[1]));
                } else if (parts.length == 3 && parts[2].equals("transfer-leadership") && method.equals("POST")) {
                    cluster.transferLeadership(parts[1]);
                    ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", parts[1] + " is the leader"));
                } else {
                    throw new ApiException(404, ErrorCode.NOT_FOUND, method + " /v1/" + path
                        + " is not an endpoint: see docs/api.md for the servers API");
                }
            }
            default -> throw new ApiException(404, ErrorCode.NOT_FOUND, "no such path /v1/" + path + ": see docs/api.md");
        }
    }

    private void status(ApiServer.Request request) throws ApiException, IOException {
        ClusterAccess.SelfStatus self = cluster.self();
        QueryResult.ClusterSummary summary = KvHandlers.expect(cluster.query(new Query.Summary(), request.linearizable()),
            QueryResult.ClusterSummary.class);
        ObjectNode body = JsonViews.object()
            .put("cluster", summary.clusterName())
            .put("leader", self.leader())
            .put("term", self.term())
            .put("revision", summary.revision())
            .put("appliedIndex", herd.control.LogPosition.logIndexOf(summary.lastAppliedIndex()))
            .put("keys", summary.keys())
            .put("servers", summary.servers())
            .put("workers", summary.workers());
        body.set("node", self(self));
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    private void servers(ApiServer.Request request) throws ApiException, IOException {
        ArrayNode rows = JsonViews.MAPPER.createArrayNode();
        for (ClusterAccess.ServerRow row : cluster.servers()) {
            rows.add(JsonViews.object().put("id", row.id()).put("name", row.name()).put("endpoint", row.endpoint())
                .put("state", row.state()).put("term", row.term()).put("index", row.index()).put("commit", row.commit())
                .put("vote", row.vote()));
        }
        ObjectNode body = JsonViews.object();
        body.set("servers", rows);
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    private void addServer(ApiServer.Request request) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        String name = text(body, "name");
        String address = text(body, "address");
        String raftAddress = body.hasNonNull("raftAddress") ? body.get("raftAddress").asText() : NameRules.defaultRaftAddress(address);
        var invalid = NameRules.checkName("server", name)
            .or(() -> NameRules.checkAddress("API", address))
            .or(() -> NameRules.checkAddress("Raft", raftAddress));
        if (invalid.isPresent()) {
            throw ApiException.of(invalid.get());
        }
        cluster.addServer(name, address, raftAddress);
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", "added server " + name));
    }

    private void registerWorker(ApiServer.Request request) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        String name = text(body, "name");
        String address = text(body, "address");
        String zone = body.hasNonNull("zone") ? body.get("zone").asText() : null;
        var invalid = NameRules.checkName("node", name).or(() -> NameRules.checkAddress("API", address));
        if (invalid.isPresent()) {
            throw ApiException.of(invalid.get());
        }
        ApiServer.Responses.json(request.exchange(), 200, cluster.registerWorker(name, address, zone));
    }

    /**
     * Forgets a worker for good (a voting server leaves with {@code herd server remove}): its zone no
     * longer counts for copies, and the storage epoch re-places what it held. Refused, changing
     * nothing, while anything of it would be lost or could run twice.
     */
    private void removeWorker(ApiServer.Request request, String name) throws ApiException, IOException {
        boolean force = request.flag("force");
        QueryResult.NodeList list = KvHandlers.expect(cluster.query(new Query.Nodes(), true), QueryResult.NodeList.class);
        NodeInfo node = list.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow(() ->
            new ApiException(404, ErrorCode.NODE_NOT_FOUND, "there is no node '" + name + "' in the cluster: 'herd node "
                + "list' shows the names"));
        if (node.role() == NodeInfo.Role.SERVER) {
            throw new ApiException(409, ErrorCode.CONFLICT, name + " is a voting server: remove it with 'herd server "
                + "remove " + name + "', which also takes it out of the Raft group");
        }
        refuseWhileResourcesActive(name);
        refuseWhileVolumesAttached(name);
        refuseLosingLastCopies(name, force);
        Outcome outcome = cluster.submit(new Command.RemoveNode(name));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", "removed worker " + name
            + ": stop herd on it; to bring it back, join it again with an empty data directory"));
    }

    private void nodes(ApiServer.Request request) throws ApiException, IOException {
        QueryResult.NodeList list = KvHandlers.expect(cluster.query(new Query.Nodes(), request.linearizable()),
            QueryResult.NodeList.class);
        ArrayNode rows = JsonViews.MAPPER.createArrayNode();
        list.nodes().forEach(node -> rows.add(JsonViews.node(node)));
        ObjectNode body = JsonViews.object();
        body.set("nodes", rows);
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    /** A write entry another server forwarded to this one as the leader: binary in, binary out. */
    private void appendForwarded(ApiServer.Request request) throws ApiException, IOException {
        byte[] reply = cluster.appendForwarded(request.rawBody());
        var exchange = request.exchange();
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.sendResponseHeaders(200, reply.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(reply);
        }
    }

    private void backup(ApiServer.Request request) throws ApiException, IOException {
        var exchange = request.exchange();
        java.io.ByteArrayOutputStream image = new java.io.ByteArrayOutputStream();
        cluster.backup(image);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, image.size());
        try (OutputStream out = exchange.getResponseBody()) {
            image.writeTo(out);
        }
    }

    private static ObjectNode self(ClusterAccess.SelfStatus self) {
        return JsonViews.object()
            .put("name", self.name()).put("role", self.role()).put("cluster", self.clusterName())
            .put("raftState", self.raftState()).put("leader", self.leader()).put("term", self.term())
            .put("lastLogIndex", self.lastLogIndex()).put("commitIndex", self.commitIndex())
            .put("appliedIndex", self.appliedIndex()).put("votedFor", self.votedFor());
    }

    private static String text(JsonNode body, String field) throws ApiException {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual() || value.textValue().isEmpty()) {
            throw ApiException.badRequest("the body needs \"" + field + "\" as a non-empty string");
        }
        return value.textValue();
    }

    /**
     * Set when this node serves storage: why a node may not be removed (it holds, or may hold, the only
     * copy of data); the flag says the operator gives up the copies of a node that is down.
     */
    private volatile BiFunction<String, Boolean, Optional<String>> storageRemovalCheck =
        (name, force) -> Optional.empty();

    void checkStorageBeforeRemoval(BiFunction<String, Boolean, Optional<String>> check) {
        this.storageRemovalCheck = check;
    }

    /**
     * A removed node drops out of the resource status, so the scheduler would start what it runs
     * elsewhere at once, while the node itself, if alive, runs it until its lease runs out: twice.
     * Its resources must have stopped first (standby), or it must be known to run nothing (fenced,
     * or its lease expired).
     */
    private void refuseWhileResourcesActive(String name) throws ApiException {
        List<String> active = ResourceHandlers.statusReport(cluster, true).resources().stream()
            .filter(line -> line.nodes().contains(name)).map(StatusReport.ResourceLine::id).toList();
        if (!active.isEmpty()) {
            throw new ApiException(409, ErrorCode.CONFLICT, "node " + name + " runs " + String.join(", ", active)
                + ": put it in standby ('herd node standby " + name + "') and wait until 'herd status' shows nothing "
                + "running there, or, if it is down, fence it ('herd fence " + name + "'); then remove it");
        }
    }

    /**
     * A node's attached volumes are written only through it: removing it would leave them attached to
     * a node that no longer exists, and no other node could serve, detach or fence them.
     */
    private void refuseWhileVolumesAttached(String name) throws ApiException {
        QueryResult.VolumeList volumes = KvHandlers.expect(cluster.query(new Query.Volumes(), true),
            QueryResult.VolumeList.class);
        List<String> attached = volumes.volumes().stream().map(VolumeRow::volume)
            .filter(volume -> name.equals(volume.attachedNode())).map(VolumeRecord::name).toList();
        if (!attached.isEmpty()) {
            throw new ApiException(409, ErrorCode.CONFLICT, "node " + name + " has volume(s) " + String.join(", ", attached)
                + " attached for writing: detach them on that node ('herd volume detach NAME' against its API) or, "
                + "if it is down, fence it ('herd fence " + name + "'), which releases them; then remove it");
        }
    }

    private void refuseLosingLastCopies(String name, boolean force) throws ApiException {
        Optional<String> refusal = storageRemovalCheck.apply(name, force);
        if (refusal.isPresent()) {
            throw new ApiException(409, ErrorCode.CONFLICT, refusal.get());
        }
    }
}
