package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import herd.core.ErrorCode;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Validator;
import herd.server.ClusterAccess;
import java.io.IOException;

/**
 * The resource configuration (resources, constraints, properties) as crm shell text. A new one is
 * parsed and validated with the scheduler's model before it enters the log (missing references,
 * cycles in mandatory orders, ... are refused with the line and the problem), and stored in its
 * canonical printed form, so what {@code show} prints loads back to the same configuration.
 */
final class ConfigurationHandlers {
    private final ClusterAccess cluster;

    ConfigurationHandlers(ClusterAccess cluster) {
        this.cluster = cluster;
    }

    void handle(ApiServer.Request request) throws ApiException, IOException {
        switch (request.method()) {
            case "GET" -> show(request);
            case "PUT" -> load(request);
            default -> throw new ApiException(405, ErrorCode.BAD_REQUEST, request.method()
                + " is not allowed on /v1/configuration; use GET or PUT");
        }
    }

    private void show(ApiServer.Request request) throws ApiException, IOException {
        QueryResult.ResourceConfigurationText current = KvHandlers.expect(
            cluster.query(new Query.ResourceConfiguration(), request.linearizable()), QueryResult.ResourceConfigurationText.class);
        ApiServer.Responses.json(request.exchange(), 200,
            JsonViews.object().put("crm", current.crmText()).put("version", current.version()));
    }

    private void load(ApiServer.Request request) throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        JsonNode text = body.get("crm");
        if (text == null || !text.isTextual()) {
            throw ApiException.badRequest("the body needs \"crm\": the configuration in crm shell syntax");
        }
        String canonical = canonical(text.textValue());
        Outcome outcome = cluster.submit(new Command.SetResourceConfiguration(canonical));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        ApiServer.Responses.json(request.exchange(), 200, JsonViews.object().put("result", ((Outcome.Applied) outcome).description()));
    }

    /** Parses, validates and prints the configuration; any problem is a 400 that names it. */
    static String canonical(String crmText) throws ApiException {
        try {
            Configuration configuration = Validator.requireValid(CrmShell.parse(crmText));
            return CrmShell.format(configuration);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("the configuration was not applied: " + e.getMessage());
        }
    }
}
