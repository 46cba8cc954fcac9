package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.blockcore.volume.CatalogResult;
import herd.blockcore.volume.Volume;
import herd.blockcore.volume.VolumeCatalog;
import herd.core.ErrorCode;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.volume.VolumeRecord;
import herd.core.volume.VolumeRules;
import herd.core.volume.VolumeRow;
import herd.core.volume.VolumeTreeNode;
import herd.server.ClusterAccess;
import herd.server.storage.Sizes;
import herd.server.storage.VolumeCheck;
import herd.server.storage.VolumeGateway;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Volumes over HTTP ({@code /v1/volumes...}, see docs/api.md). Changes to a volume this node
 * serves go through its {@link VolumeGateway}, so that a snapshot or resize lands between two
 * writes and a delete or rollback first stops the I/O here; a volume served by another node must be
 * changed through that node's API.
 */
final class VolumeHandlers {
    private static final String PREFIX = "/v1/volumes";

    private final ClusterAccess cluster;
    private final VolumeGateway gateway;
    private final VolumeCheck check;

    VolumeHandlers(ClusterAccess cluster, VolumeGateway gateway, VolumeCheck check) {
        this.cluster = cluster;
        this.gateway = gateway;
        this.check = check;
    }

    /** @return false when the path is not a volume path */
    boolean handle(ApiServer.Request request) throws ApiException, IOException {
        String path = request.path();
        if (path.equals(PREFIX) || path.equals(PREFIX + "/")) {
            if (request.method().equals("POST")) {
                create(request);
            } else {
                request.requireMethod("GET");
                list(request);
            }
            return true;
        }
        if (!path.startsWith(PREFIX + "/")) {
            return false;
        }
        String rest = path.substring(PREFIX.length() + 1);
        if (rest.equals("tree")) {
            request.requireMethod("GET");
            tree(request);
            return true;
        }
        int slash = rest.indexOf('/');
        String name = slash < 0 ? rest : rest.substring(0, slash);
        String action = slash < 0 ? "" : rest.substring(slash + 1);
        switch (action) {
            case "" -> volume(request, name);
            case "resize" -> {
                request.requireMethod("POST");
                resize(request, name);
            }
            case "snapshot" -> {
                request.requireMethod("POST");
                snapshot(request, name);
            }
            case "clone" -> {
                request.requireMethod("POST");
                cloneSnapshot(request, name);
            }
            case "rollback" -> {
                request.requireMethod("POST");
                rollback(request, name);
            }
            case "detach" -> {
                request.requireMethod("POST");
                detach(request, name);
            }
            case "check" -> {
                request.requireMethod("POST");
                check(request, name);
            }
            default -> throw new ApiException(404, ErrorCode.NOT_FOUND, "no such path " + path
                + ": a volume has resize, snapshot, clone, rollback, detach and check (see docs/api.md)");
        }
        return true;
    }

    private void volume(ApiServer.Request request, String name) throws ApiException, IOException {
        switch (request.method()) {
            case "GET" -> info(request, name);
            case "DELETE" -> delete(request, name);
            case "PATCH" -> resize(request, name);
            default -> throw new ApiException(405, ErrorCode.BAD_REQUEST, request.method() + " is not allowed on "
                + request.path() + "; use GET, PATCH or DELETE");
        }
    }

    private void list(ApiServer.Request request) throws ApiException, IOException {
        QueryResult.VolumeList list = (QueryResult.VolumeList) cluster.query(new Query.Volumes(), request.linearizable());
        ArrayNode volumes = JsonViews.MAPPER.createArrayNode();
        list.volumes().forEach(row -> volumes.add(row(row)));
        ObjectNode body = JsonViews.object();
        body.set("volumes", volumes);
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    private void info(ApiServer.Request request, String name) throws ApiException, IOException {
        QueryResult.VolumeDetail detail = detail(name, request.linearizable());
        ApiServer.Responses.json(request.exchange(), 200, detailJson(detail));
    }

    private void tree(ApiServer.Request request) throws ApiException, IOException {
        QueryResult.VolumeForest forest = (QueryResult.VolumeForest) cluster.query(new Query.VolumeTree(), request.linearizable());
        ArrayNode roots = JsonViews.MAPPER.createArrayNode();
        forest.roots().forEach(root -> roots.add(treeNode(root)));
        ObjectNode body = JsonViews.object();
        body.set("roots", roots);
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    private void create(ApiServer.Request request) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        String name = requiredText(body, "name");
        long sizeBytes = size(body);
        int copies = copies(body);
        String tag = body.path("tag").asText("");
        submit(new Command.CreateVolume(name, sizeBytes, copies, tag, System.currentTimeMillis()));
        respondWith(request, 201, name);
    }

    private void resize(ApiServer.Request request, String name) throws ApiException, IOException {
        long sizeBytes = size(request.jsonBody());
        throughGateway(name, servedBy -> submit(new Command.ResizeVolume(name, sizeBytes)));
        respondWith(request, 200, name);
    }

    private void snapshot(ApiServer.Request request, String name) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        String snapshot = requiredText(body, "snapshot");
        String tag = body.path("tag").asText("");
        throughGateway(name, servedBy -> submit(new Command.SnapshotVolume(name, snapshot, tag, System.currentTimeMillis(),
            servedBy)));
        respondWith(request, 201, snapshot);
    }

    private void cloneSnapshot(ApiServer.Request request, String snapshot) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        String newName = requiredText(body, "newName");
        submit(new Command.CloneVolume(snapshot, newName, System.currentTimeMillis(), copies(body)));
        respondWith(request, 201, newName);
    }

    private void rollback(ApiServer.Request request, String name) throws ApiException, IOException {
        String snapshot = requiredText(request.jsonBody(), "snapshot");
        refuseRollbackToWrongSnapshot(name, snapshot);
        detachIfServedHere(name);
        submit(new Command.RollbackVolume(name, snapshot));
        respondWith(request, 200, name);
    }

    private void delete(ApiServer.Request request, String name) throws ApiException, IOException {
        detachIfServedHere(name);
        submit(new Command.DeleteVolume(name));
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("deleted", name));
    }

    private void detach(ApiServer.Request request, String name) throws ApiException, IOException {
        VolumeRecord volume = detail(name, true).row().volume();
        if (volume.attachedNode() != null) {
            refuseIfServedElsewhere(volume, "detach");
            outcomeOrThrow(runChecked(() -> gateway.detach(name)));
        }
        respondWith(request, 200, name);
    }

    /**
     * Checks every copy of the objects at indexes {@code from} to {@code from + count - 1} of the
     * volume and replaces damaged ones ({@link VolumeCheck}); the answer says where to go on.
     */
    private void check(ApiServer.Request request, String name) throws ApiException, IOException {
        QueryResult.VolumeDetail detail = detail(name, true);
        long from = request.longParam("from", 0);
        long count = request.longParam("count", VolumeCheck.MAX_OBJECTS_PER_CALL);
        VolumeCheck.Report report;
        try {
            report = check.check(detail, from, Math.clamp(count, Integer.MIN_VALUE, Integer.MAX_VALUE));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        ObjectNode body = JsonViews.object().put("volume", report.volume()).put("objectCount", report.objectCount())
            .put("from", report.from()).put("next", report.next()).put("objectsChecked", report.objectsChecked())
            .put("copiesGood", report.copiesGood());
        ArrayNode repaired = body.putArray("repaired");
        report.repaired().forEach(repair -> repaired.addObject().put("index", repair.index())
            .put("object", repair.object().hex()).put("node", repair.node()));
        ArrayNode problems = body.putArray("problems");
        report.problems().forEach(problem -> problems.addObject().put("index", problem.index())
            .put("object", problem.object().hex()).put("node", problem.node()).put("problem", problem.problem()));
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    /**
     * Refuses a rollback the catalog would refuse for its names (a missing snapshot, one of another
     * volume) before the volume is detached for it: a refused command changes nothing, and
     * detaching would have cut off the volume's clients.
     */
    private void refuseRollbackToWrongSnapshot(String name, String snapshot) throws ApiException {
        Optional<CatalogResult.Refused> refusal =
            VolumeCatalog.rollbackRefusal(name, liveEntry(name), snapshot, liveEntry(snapshot));
        if (refusal.isPresent()) {
            throw ApiException.of(VolumeRules.rejection(refusal.get()));
        }
    }

    private Optional<Volume> liveEntry(String name) throws ApiException {
        return cluster.query(new Query.VolumeInfo(name), true) instanceof QueryResult.VolumeDetail detail
            ? Optional.of(detail.row().volume().toVolume()) : Optional.empty();
    }

    /** Stops serving the volume here before a change that needs it detached; refuses when another node serves it. */
    private void detachIfServedHere(String name) throws ApiException {
        QueryResult answer = cluster.query(new Query.VolumeInfo(name), true);
        if (!(answer instanceof QueryResult.VolumeDetail detail) || detail.row().volume().attachedNode() == null) {
            return; // the command itself reports a missing name
        }
        VolumeRecord volume = detail.row().volume();
        refuseIfServedElsewhere(volume, "change");
        outcomeOrThrow(runChecked(() -> gateway.detach(name)));
    }

    /** A change of a volume, given the node that serves it ("" for none) when the change is made. */
    private interface ServedChange {
        Outcome submit(String servedBy) throws ApiException;
    }

    /** Runs {@code change} between two I/O requests of the volume when this node serves it. */
    private void throughGateway(String name, ServedChange change) throws ApiException {
        QueryResult answer = cluster.query(new Query.VolumeInfo(name), true);
        String servedBy = "";
        if (answer instanceof QueryResult.VolumeDetail detail && detail.row().volume().attachedNode() != null) {
            refuseIfServedElsewhere(detail.row().volume(), "change");
            servedBy = detail.row().volume().attachedNode();
        }
        String attachment = servedBy;
        outcomeOrThrow(runChecked(() -> gateway.changeServed(name, () -> change.submit(attachment))));
    }

    private void refuseIfServedElsewhere(VolumeRecord volume, String action) throws ApiException {
        if (!volume.attachedNode().equals(gateway.nodeName())) {
            throw ApiException.badRequest("cannot " + action + " volume '" + volume.name() + "' here: it is attached on node "
                + volume.attachedNode() + ", whose NBD clients write to it; run the command against that node's API, or, "
                + "if that node is down, fence it ('herd fence " + volume.attachedNode() + "'), which releases the volume");
        }
    }

    private Outcome runChecked(Callable<Outcome> action) throws ApiException {
        try {
            return action.call();
        } catch (ApiException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("volume change failed", e);
        }
    }

    private Outcome submit(Command command) throws ApiException {
        return outcomeOrThrow(cluster.submit(command));
    }

    private static Outcome outcomeOrThrow(Outcome outcome) throws ApiException {
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        return outcome;
    }

    /**
     * Answers a change with the volume as it is now: a linearizable read, which sees the change even
     * on a server whose copy of the state has not applied it yet.
     */
    private void respondWith(ApiServer.Request request, int status, String name) throws ApiException, IOException {
        ApiServer.Responses.json(request.exchange(), status, detailJson(detail(name, true)));
    }

    private QueryResult.VolumeDetail detail(String name, boolean linearizable) throws ApiException {
        QueryResult answer = cluster.query(new Query.VolumeInfo(name), linearizable);
        if (answer instanceof QueryResult.Refused refused) {
            throw ApiException.of(refused.rejection());
        }
        return (QueryResult.VolumeDetail) answer;
    }

    private static long size(JsonNode body) throws ApiException {
        JsonNode size = body.path("sizeBytes");
        if (size.isIntegralNumber()) {
            return size.asLong();
        }
        if (size.isTextual()) {
            try {
                return Sizes.parse(size.asText(), "sizeBytes");
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest(e.getMessage());
            }
        }
        throw ApiException.badRequest("the body needs \"sizeBytes\": a number of bytes or a size like \"10G\"");
    }

    /**
     * The copies asked for; 0 when the body leaves them out: the cluster's default (herd storage format)
     * for a new volume, the snapshot's for a clone.
     */
    private static int copies(JsonNode body) throws ApiException {
        JsonNode copies = body.path("copies");
        if (copies.isMissingNode() || copies.isNull()) {
            return 0;
        }
        if (!copies.isIntegralNumber() || !copies.canConvertToInt() || copies.asInt() < 1) {
            throw ApiException.badRequest("\"copies\" must be a whole number of 1 or more, not " + copies
                + "; leave it out for the cluster's default (herd storage format)");
        }
        return copies.asInt();
    }

    private static String requiredText(JsonNode body, String field) throws ApiException {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw ApiException.badRequest("the body needs \"" + field + "\" (text)");
        }
        return value.asText();
    }

    // ---- JSON shapes (docs/api.md, "Volumes") ----

    static ObjectNode volume(VolumeRecord volume) {
        ObjectNode json = JsonViews.object()
            .put("name", volume.name())
            .put("id", Integer.toUnsignedLong(volume.id()))
            .put("kind", volume.isSnapshot() ? "snapshot" : "volume")
            .put("sizeBytes", volume.sizeBytes())
            .put("copies", volume.copies())
            .put("createdMillis", volume.createdMillis())
            .put("tag", volume.tag());
        if (volume.parentId() != 0) {
            json.put("parentId", Integer.toUnsignedLong(volume.parentId()));
        }
        if (volume.attachedNode() != null) {
            json.put("attachedNode", volume.attachedNode());
        }
        if (volume.deleted()) {
            json.put("deleted", true);
        }
        return json;
    }

    static ObjectNode row(VolumeRow row) {
        return volume(row.volume()).put("usedBytes", row.usedBytes()).put("sharedBytes", row.sharedBytes());
    }

    static ObjectNode detailJson(QueryResult.VolumeDetail detail) {
        ObjectNode json = row(detail.row()).put("inodeEntries", detail.inodeEntries());
        ArrayNode chain = json.putArray("chain");
        detail.chain().stream().skip(1).forEach(ancestor -> chain.add(ancestor.name()));
        return json;
    }

    static ObjectNode treeNode(VolumeTreeNode node) {
        ObjectNode json = volume(node.volume());
        ArrayNode children = json.putArray("children");
        node.children().forEach(child -> children.add(treeNode(child)));
        return json;
    }
}
