package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.coordinator.Explanation;
import herd.coordinator.Fencing;
import herd.coordinator.SchedulerInput;
import herd.coordinator.StatusReport;
import herd.core.ErrorCode;
import herd.server.ClusterAccess;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.NodeMembership;
import herd.core.resource.NodeStatus;
import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.crm.ConfigurationEdits;
import herd.scheduler.crm.ConfigurationEdits.OperatorConstraint;
import herd.scheduler.crm.ConfigurationEdits.ResourceChanges;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.Resource;
import herd.scheduler.model.Score;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's commands on resources, nodes and constraints (crm_resource, crm_attribute,
 * stonith_admin). Each edit reads the configuration with a linearizable read, applies one of
 * {@link ConfigurationEdits} and submits the result only if the configuration is still the version
 * it read, so concurrent edits never lose each other; a lost race is retried on a fresh read.
 */
final class OperatorHandlers {
    private static final Logger log = LoggerFactory.getLogger(OperatorHandlers.class);
    /** Attempts of one edit when other edits keep changing the configuration in between. */
    static final int EDIT_ATTEMPTS_MAX = 5;
    /** The reason a membership change records when an operator asks for fencing. */
    static final String FENCE_REASON = "fencing requested by an operator";

    private final ClusterAccess cluster;

    OperatorHandlers(ClusterAccess cluster) {
        this.cluster = cluster;
    }

    /** What an edit does, given the current configuration and the names of the cluster's nodes. */
    @FunctionalInterface
    interface Edit {
        Configuration apply(Configuration current, List<String> nodeNames);
    }

    /** The outcome of an edit: whether it changed anything, and the configuration version after it. */
    record Edited(boolean changed, long version) {}

    /** @return false when the path is not one of these */
    boolean handle(ApiServer.Request request) throws ApiException, IOException {
        String[] parts = request.path().substring(1).split("/", -1); // v1, collection, ...
        if (parts.length < 2 || !parts[0].equals("v1")) {
            return false;
        }
        return switch (parts[1]) {
            case "resources" -> (parts.length >= 3 || request.method().equals("POST")) && resources(request, parts);
            case "constraints" -> constraints(request, parts);
            case "nodes" -> parts.length >= 4 && nodes(request, parts);
            default -> false;
        };
    }

    // ------------------------------------------------------------------ resources

    private boolean resources(ApiServer.Request request, String[] parts) throws ApiException, IOException {
        if (parts.length == 2) {
            String crm = requiredText(request.jsonBody(), "crm");
            Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.createResources(config, crm));
            return answer(request, "created the resources (configuration version " + edited.version() + ")", edited);
        }
        String id = parts[2];
        if (id.isEmpty()) {
            throw ApiException.badRequest("the resource id is missing: /v1/resources/{id}");
        }
        if (parts.length == 3) {
            switch (request.method()) {
                case "GET" -> show(request, id);
                case "DELETE" -> {
                    boolean force = request.flag("force");
                    refuseWhileRunning(id);
                    Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.deleteResource(config, id, force));
                    answer(request, "deleted " + id, edited);
                }
                default -> throw new ApiException(405, ErrorCode.BAD_REQUEST, request.method() + " is not allowed on "
                    + request.path() + "; use GET or DELETE");
            }
            return true;
        }
        String action = parts[3];
        if (action.equals("why")) {
            request.requireMethod("GET");
            why(request, id);
            return true;
        }
        request.requireMethod("POST");
        switch (action) {
            case "update" -> update(request, id);
            case "start", "stop" -> {
                String role = action.equals("start") ? "Started" : "Stopped";
                Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.setTargetRole(config, id, role));
                answer(request, id + ": target-role=" + role, edited);
            }
            case "move", "ban" -> moveOrBan(request, id, action.equals("move"));
            case "clear" -> {
                String node = optionalText(request.jsonBody(), "node");
                Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.clear(config, id, node));
                answer(request, "cleared the moves and bans of " + id + (node == null ? "" : " on " + node),
                    id + " had no moves or bans to clear" + (node == null ? "" : " on " + node), edited);
            }
            default -> throw new ApiException(404, ErrorCode.NOT_FOUND, "no such path " + request.path()
                + ": a resource has update, start, stop, move, ban, clear and why (see docs/api.md)");
        }
        return true;
    }

    private void update(ApiServer.Request request, String id) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        ResourceChanges changes = new ResourceChanges(textMap(body, "params"), textMap(body, "meta"),
            textList(body, "deleteParams"), textList(body, "deleteMeta"));
        Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.updateResource(config, id, changes));
        answer(request, "updated " + id, edited);
    }

    private void moveOrBan(ApiServer.Request request, String id, boolean move) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        String node = requiredText(body, "node");
        String lifetimeText = optionalText(body, "lifetime");
        Duration lifetime = lifetimeText == null ? null : invalidAsBadRequest(() -> ConfigurationEdits.parseLifetime(lifetimeText));
        long nowSec = System.currentTimeMillis() / 1000;
        Edited edited = edit(request, (config, nodes) -> move
            ? ConfigurationEdits.move(config, nodes, id, node, lifetime, nowSec)
            : ConfigurationEdits.ban(config, nodes, id, node, lifetime, nowSec));
        String until = lifetime == null ? "" : " until " + Instant.ofEpochSecond(nowSec + lifetime.toSeconds());
        answer(request, (move ? id + " prefers " + node + " (cli-prefer-" + id + ")" : id + " is banned from " + node
            + " (cli-ban-" + id + "-on-" + node + ")") + until + "; 'herd resource clear " + id + "' removes it", edited);
    }

    private void show(ApiServer.Request request, String id) throws ApiException, IOException {
        ResourceStatusView view = status();
        Configuration config = parseStored(view.crmText());
        String crm = invalidAsBadRequest(() -> ConfigurationEdits.resourceText(config, id));
        StatusReport report = StatusReport.of("", "", config, view, System.currentTimeMillis());
        ArrayNode instances = JsonViews.MAPPER.createArrayNode();
        for (StatusReport.ResourceLine line : report.resources()) {
            if (line.id().equals(id) || id.equals(line.parent()) || line.id().startsWith(id + ":")) {
                instances.add(JsonViews.MAPPER.valueToTree(line));
            }
        }
        ObjectNode body = JsonViews.object().put("id", id).put("crm", crm);
        body.set("instances", instances);
        ArrayNode constraints = body.putArray("constraints");
        ConfigurationEdits.constraintsNaming(config, List.of(id)).forEach(constraints::add);
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    /**
     * A resource is deleted only once it is stopped: the coordinator sends actions only for configured
     * resources, so a deleted one that still ran would be left running, unmanaged (as the crm shell,
     * herd refuses; pcs and 'herd resource delete' stop it first and wait).
     */
    private void refuseWhileRunning(String id) throws ApiException {
        ResourceStatusView view = status();
        Configuration config = parseStored(view.crmText());
        if (config.find(id).isEmpty()) {
            return; // the edit names what is missing
        }
        List<String> nodes = new ArrayList<>();
        for (StatusReport.ResourceLine line : StatusReport.of("", "", config, view, System.currentTimeMillis()).resources()) {
            if (line.id().equals(id) || id.equals(line.parent()) || line.id().startsWith(id + ":")) {
                nodes.addAll(line.nodes());
            }
        }
        if (!nodes.isEmpty()) {
            throw ApiException.badRequest(id + " runs on " + String.join(", ", nodes.stream().distinct().toList())
                + ": stop it first ('herd resource stop " + id + "', then wait until 'herd status' shows it stopped); "
                + "'herd resource delete' does both");
        }
    }

    private void why(ApiServer.Request request, String id) throws ApiException, IOException {
        ResourceStatusView view = status();
        Configuration config = parseStored(view.crmText());
        Resource resource = invalidAsBadRequest(() -> ConfigurationEdits.requireResource(config, id));
        Explanation explanation = Explanation.explain(config, view, resource, System.currentTimeMillis());
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.MAPPER.valueToTree(explanation));
    }

    // ------------------------------------------------------------------ constraints

    private boolean constraints(ApiServer.Request request, String[] parts) throws ApiException, IOException {
        if (parts.length == 2 && request.method().equals("GET")) {
            listConstraints(request);
        } else if (parts.length == 2) {
            request.requireMethod("POST");
            String crm = requiredText(request.jsonBody(), "crm");
            Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.addConstraints(config, crm));
            answer(request, "added the constraints (configuration version " + edited.version() + ")", edited);
        } else {
            request.requireMethod("DELETE");
            String id = parts[2];
            Edited edited = edit(request, (config, nodes) -> ConfigurationEdits.removeConstraint(config, id));
            answer(request, "removed constraint " + id, edited);
        }
        return true;
    }

    private void listConstraints(ApiServer.Request request) throws ApiException, IOException {
        Configuration config = parseStored(configurationText(request.linearizable()));
        ObjectNode body = JsonViews.object();
        body.set("constraints", JsonViews.MAPPER.valueToTree(ConfigurationEdits.constraints(config)));
        long nowSec = System.currentTimeMillis() / 1000;
        ArrayNode operator = body.putArray("operatorConstraints");
        for (OperatorConstraint c : ConfigurationEdits.operatorConstraints(config)) {
            ObjectNode row = JsonViews.MAPPER.valueToTree(c);
            row.put("expired", c.expiredAt(nowSec));
            operator.add(row);
        }
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    // ------------------------------------------------------------------ nodes

    private boolean nodes(ApiServer.Request request, String[] parts) throws ApiException, IOException {
        String node = parts[2];
        String action = parts[3];
        switch (action) {
            case "standby", "online" -> {
                request.requireMethod("POST");
                boolean standby = action.equals("standby");
                Edited edited = edit(request, (config, nodes) -> standby
                    ? ConfigurationEdits.setNodeAttribute(config, nodes, node, "standby", "on")
                    : ConfigurationEdits.deleteNodeAttribute(config, nodes, node, "standby"));
                answer(request, "node " + node + (standby ? " is in standby: its resources move away" : " is online"), edited);
            }
            case "maintenance" -> {
                request.requireMethod("POST");
                boolean on = request.jsonBody().path("on").asBoolean(true);
                Edited edited = edit(request, (config, nodes) -> on
                    ? ConfigurationEdits.setNodeAttribute(config, nodes, node, "maintenance", "on")
                    : ConfigurationEdits.deleteNodeAttribute(config, nodes, node, "maintenance"));
                answer(request, "node " + node + (on ? " is in maintenance: the cluster leaves its resources alone"
                    : " is out of maintenance"), edited);
            }
            case "attributes" -> attribute(request, node, parts);
            case "fence" -> {
                request.requireMethod("POST");
                fence(request, node);
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void attribute(ApiServer.Request request, String node, String[] parts) throws ApiException, IOException {
        if (parts.length != 5 || parts[4].isEmpty()) {
            throw ApiException.badRequest("name the attribute: /v1/nodes/" + node + "/attributes/{name}");
        }
        String name = parts[4];
        Edited edited;
        if (request.method().equals("DELETE")) {
            edited = edit(request, (config, nodes) -> ConfigurationEdits.deleteNodeAttribute(config, nodes, node, name));
            answer(request, "deleted attribute " + name + " of node " + node, "node " + node + " had no attribute " + name,
                edited);
            return;
        }
        request.requireMethod("PUT");
        String value = requiredText(request.jsonBody(), "value");
        edited = edit(request, (config, nodes) -> ConfigurationEdits.setNodeAttribute(config, nodes, node, name, value));
        answer(request, "node " + node + ": " + name + "=" + value, edited);
    }

    /**
     * Marks the node lost: the leader's coordinator fences every lost node with the configured devices
     * and records the result (Fencing History), and only then recovers what it ran.
     */
    private void fence(ApiServer.Request request, String node) throws ApiException, IOException {
        ResourceStatusView view = status();
        if (view.nodes().stream().noneMatch(n -> n.name().equals(node))) {
            throw new ApiException(404, ErrorCode.NODE_NOT_FOUND, "there is no node '" + node + "' in the cluster (nodes: "
                + String.join(", ", nodeNames(view)) + "): 'herd node list' shows them");
        }
        Configuration config = parseStored(view.crmText());
        if (!Fencing.inUse(config)) {
            throw ApiException.badRequest("cannot fence " + node + ": " + (Scheduler.isTrue(config.property("stonith-enabled", "true"))
                ? "no fence device is configured; add one, e.g. herd resource create 'primitive fence-ipmi "
                    + "stonith:fence_ipmilan params ip=10.0.0.9 username=admin password=...'"
                : "fencing is disabled (stonith-enabled=false); enable it with a fence device configured"));
        }
        long requestedAtMillis = System.currentTimeMillis();
        Outcome outcome = cluster.submit(new Command.SetNodeMembership(node, NodeMembership.LOST, FENCE_REASON));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        log.info("operator asked to fence node {}", node);
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object()
            .put("result", "node " + node + " is marked lost: the leader fences it now ('herd status' shows the result "
                + "under Fencing History)")
            .put("requestedAtEpochMillis", requestedAtMillis));
    }

    // ------------------------------------------------------------------ the edit loop

    /**
     * Reads the configuration (linearizable), applies the edit and submits the result if it differs,
     * conditional on the version read; retried on a fresh read when another edit got in between.
     */
    private Edited edit(ApiServer.Request request, Edit edit) throws ApiException {
        for (int attempt = 1; ; attempt++) {
            ResourceStatusView view = status();
            Configuration current = parseStored(view.crmText());
            Configuration next = invalidAsBadRequest(() -> edit.apply(current, nodeNames(view)));
            String text = CrmShell.format(next);
            if (text.equals(view.crmText())) {
                return new Edited(false, view.configurationVersion());
            }
            Outcome outcome = cluster.submit(new Command.SetResourceConfiguration(text, view.configurationVersion()));
            if (outcome instanceof Outcome.Rejected rejected) {
                if (rejected.rejection().code() == ErrorCode.REVISION_MISMATCH && attempt < EDIT_ATTEMPTS_MAX) {
                    log.debug("{} {}: the configuration changed meanwhile, attempt {}", request.method(), request.path(), attempt + 1);
                    continue;
                }
                throw ApiException.of(rejected.rejection());
            }
            log.info("operator edit {} {}: configuration version {}", request.method(), request.path(),
                view.configurationVersion() + 1);
            return new Edited(true, view.configurationVersion() + 1);
        }
    }

    private static boolean answer(ApiServer.Request request, String result, Edited edited) throws IOException {
        return answer(request, result, result + " (it already was: nothing changed)", edited);
    }

    private static boolean answer(ApiServer.Request request, String changedResult, String unchangedResult, Edited edited)
        throws IOException {
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object()
            .put("result", edited.changed() ? changedResult : unchangedResult)
            .put("changed", edited.changed()).put("version", edited.version()));
        return true;
    }

    /** An edit's refusal: 404 when what it names does not exist, else 400; the message says what to do. */
    private static <T> T invalidAsBadRequest(java.util.function.Supplier<T> work) throws ApiException {
        try {
            return work.get();
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            if (message.startsWith("there is no node ")) throw new ApiException(404, ErrorCode.NODE_NOT_FOUND, message);
            if (message.startsWith("there is no ")) throw new ApiException(404, ErrorCode.NOT_FOUND, message);
            throw ApiException.badRequest(message);
        }
    }

    private static Configuration parseStored(String crmText) throws ApiException {
        try {
            return CrmShell.parse(crmText);
        } catch (IllegalArgumentException e) {
            throw new ApiException(500, ErrorCode.INTERNAL, "the stored configuration cannot be read: " + e.getMessage());
        }
    }

    private static List<String> nodeNames(ResourceStatusView view) {
        return view.nodes().stream().map(NodeInfo::name).toList();
    }

    private static String requiredText(JsonNode body, String field) throws ApiException {
        String value = optionalText(body, field);
        if (value == null || value.isBlank()) {
            throw ApiException.badRequest("the body needs \"" + field + "\" (text)");
        }
        return value;
    }

    private static String optionalText(JsonNode body, String field) throws ApiException {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ApiException.badRequest("\"" + field + "\" must be text");
        }
        return value.asText();
    }

    private static Map<String, String> textMap(JsonNode body, String field) throws ApiException {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode object = body.path(field);
        if (object.isMissingNode() || object.isNull()) {
            return out;
        }
        if (!object.isObject()) {
            throw ApiException.badRequest("\"" + field + "\" must be an object of name: value");
        }
        for (Map.Entry<String, JsonNode> entry : object.properties()) {
            if (!entry.getValue().isValueNode()) {
                throw ApiException.badRequest("\"" + field + "\"." + entry.getKey() + " must be text");
            }
            out.put(entry.getKey(), entry.getValue().asText());
        }
        return out;
    }

    private static List<String> textList(JsonNode body, String field) throws ApiException {
        List<String> out = new ArrayList<>();
        JsonNode array = body.path(field);
        if (array.isMissingNode() || array.isNull()) {
            return out;
        }
        if (!array.isArray()) {
            throw ApiException.badRequest("\"" + field + "\" must be a list of names");
        }
        array.forEach(name -> out.add(name.asText()));
        return out;
    }

    /** The configuration with everything the edits and explanations need: nodes, statuses, version. */
    private ResourceStatusView status() throws ApiException {
        return KvHandlers.expect(cluster.query(new Query.ResourceStatus(), true), ResourceStatusView.class);
    }

    private String configurationText(boolean linearizable) throws ApiException {
        return KvHandlers.expect(cluster.query(new Query.ResourceConfiguration(), linearizable),
            herd.core.command.QueryResult.ResourceConfigurationText.class).crmText();
    }

}
