package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import herd.coordinator.ActionRequest;
import herd.coordinator.StatusReport;
import herd.core.ErrorCode;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.resource.OperationRecord;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import herd.server.ClusterAccess;
import herd.server.resources.LeaderCoordinator;
import herd.server.resources.NodeAgent;
import java.io.IOException;

/**
 * Resource management over HTTP: heartbeats to the leader and actions to nodes (between nodes,
 * with the node token), and for operators the resource status and cleanup.
 */
final class ResourceHandlers {
    private final ClusterAccess cluster;
    private final NodeAgent agent;
    /** Null on a worker, which never coordinates. */
    private final LeaderCoordinator coordinator;

    ResourceHandlers(ClusterAccess cluster, NodeAgent agent, LeaderCoordinator coordinator) {
        this.cluster = cluster;
        this.agent = agent;
        this.coordinator = coordinator;
    }

    /** @return false when the path is not one of these */
    boolean handle(ApiServer.Request request) throws ApiException, IOException {
        switch (request.path()) {
            case "/v1/internal/heartbeat" -> heartbeat(request);
            case "/v1/internal/actions" -> action(request);
            case "/v1/internal/results" -> results(request);
            case "/v1/resources/status" -> status(request);
            case "/v1/resources/cleanup" -> cleanup(request);
            default -> {
                return false;
            }
        }
        return true;
    }

    private void heartbeat(ApiServer.Request request) throws ApiException, IOException {
        request.requireMethod("POST");
        JsonNode body = request.jsonBody();
        String node = requiredText(body, "node");
        boolean busy = body.path("busy").asBoolean(false);
        String bootId = body.path("bootId").isTextual() ? body.get("bootId").asText() : null;
        if (bootId != null && !herd.core.resource.NodeStatus.validBootId(bootId)) {
            throw new ApiException(400, ErrorCode.BAD_REQUEST, herd.core.resource.NodeStatus.BOOT_ID_RULE);
        }
        NodeAgent.HeartbeatVerdict verdict = coordinator == null ? null : coordinator.heartbeat(node, busy, bootId);
        if (verdict == null) {
            verdict = new NodeAgent.HeartbeatVerdict(NodeAgent.HeartbeatVerdict.NOT_LEADER, leaderAddress(), null);
        }
        var answer = JsonViews.object().put("verdict", verdict.verdict());
        if (verdict.leaderAddress() != null) {
            answer.put("leaderAddress", verdict.leaderAddress());
        }
        if (verdict.noQuorumPolicy() != null) {
            answer.put("noQuorumPolicy", verdict.noQuorumPolicy());
        }
        ApiServer.Responses.json(request.exchange(), 200, answer);
    }

    /** The leader's API address as this node knows it, or null. */
    private String leaderAddress() {
        try {
            String leader = cluster.self().leader();
            QueryResult.NodeList nodes = (QueryResult.NodeList) cluster.query(new Query.Nodes(), false);
            return nodes.nodes().stream().filter(n -> n.name().equals(leader)).map(NodeInfo::apiAddress).findFirst().orElse(null);
        } catch (ApiException | RuntimeException e) {
            return null;
        }
    }

    private void action(ApiServer.Request request) throws ApiException, IOException {
        request.requireMethod("POST");
        ActionRequest action;
        try {
            action = JsonViews.MAPPER.treeToValue(request.jsonBody(), ActionRequest.class);
        } catch (com.fasterxml.jackson.core.JacksonException | IllegalArgumentException e) {
            throw ApiException.badRequest("the body is not an action: " + e.getMessage());
        }
        OperationRecord record = agent.execute(action);
        var body = JsonViews.object().put("key", action.key());
        if (record != null) {
            body.put("rc", record.rc()).put("execStatus", record.execStatus()).put("exitReason", record.exitReason());
        }
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    /** Results a node reports (normally to the leader, which writes them straight into its log). */
    private void results(ApiServer.Request request) throws ApiException, IOException {
        request.requireMethod("POST");
        JsonNode body = request.jsonBody();
        String node = requiredText(body, "node");
        OperationRecord[] operations;
        try {
            operations = JsonViews.MAPPER.treeToValue(body.path("operations"), OperationRecord[].class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw ApiException.badRequest("\"operations\" is not a list of operation results: " + e.getOriginalMessage());
        }
        if (operations == null) {
            throw ApiException.badRequest("the body needs \"operations\"");
        }
        Outcome outcome = cluster.submit(new Command.RecordOperations(node, java.util.List.of(operations)));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", ((Outcome.Applied) outcome).description()));
    }

    private void status(ApiServer.Request request) throws ApiException, IOException {
        request.requireMethod("GET");
        StatusReport report = statusReport(cluster, request.linearizable());
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.MAPPER.valueToTree(report));
    }

    /** The cluster's resource status as {@code herd status} shows it: what runs where, failures. */
    static StatusReport statusReport(ClusterAccess cluster, boolean linearizable) throws ApiException {
        QueryResult.ResourceStatusView view = KvHandlers.expect(cluster.query(new Query.ResourceStatus(), linearizable),
            QueryResult.ResourceStatusView.class);
        Configuration config;
        try {
            config = CrmShell.parse(view.crmText());
        } catch (IllegalArgumentException e) {
            throw new ApiException(500, ErrorCode.INTERNAL, "the stored configuration cannot be read: " + e.getMessage());
        }
        ClusterAccess.SelfStatus self = cluster.self();
        return StatusReport.of(self.clusterName(), self.leader(), config, view, System.currentTimeMillis());
    }

    private void cleanup(ApiServer.Request request) throws ApiException, IOException {
        request.requireMethod("POST");
        JsonNode body = request.jsonBody();
        String resource = requiredText(body, "resource");
        String node = body.hasNonNull("node") ? body.get("node").asText() : null;
        Outcome outcome = cluster.submit(new Command.CleanupResource(resource, node));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", ((Outcome.Applied) outcome).description()));
    }

    private static String requiredText(JsonNode body, String field) throws ApiException {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw ApiException.badRequest("the body needs \"" + field + "\"");
        }
        return value.asText();
    }
}
