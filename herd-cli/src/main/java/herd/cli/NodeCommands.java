package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import herd.server.storage.Sizes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd node ...}: every machine of the cluster, servers and workers. */
@Command(name = "node", description = "Nodes of the cluster (servers and workers).",
    subcommands = {NodeCommands.ListNodes.class, NodeCommands.Standby.class, NodeCommands.Online.class,
        NodeCommands.Maintenance.class, NodeCommands.Attribute.class, NodeCommands.Remove.class})
final class NodeCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String nodePath(String node) {
        return "/v1/nodes/" + ResourceCommands.segment(node);
    }

    @Command(name = "standby", description = {"Put a node in standby: its resources move away and nothing starts there.",
        "Sets the permanent node attribute standby=on, like 'crm node standby'."})
    static final class Standby implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "NODE") String node;

        @Override
        public Integer call() {
            ResourceCommands.printResult(options, spec,
                Failures.check(options.client().post(nodePath(node) + "/standby", JSON.createObjectNode())).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "remove", description = {"Remove the worker NODE from the cluster for good (a voting server: "
        + "'herd server remove').",
        "Refused while resources run on it (put it in standby first, or fence it if it is down), while it has volumes "
        + "attached, or while it holds the only copy of some object; a storage node that is down cannot be checked and "
        + "is removed only with --force. Stop herd on it afterwards."})
    static final class Remove implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "NODE") String node;
        @Option(names = "--force", description = "Remove NODE although it is down and may hold the only copy of some "
            + "objects: they are lost.") boolean force;

        @Override
        public Integer call() {
            ResourceCommands.printResult(options, spec,
                Failures.check(options.client().delete(nodePath(node) + (force ? "?force=true" : ""))).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "online", description = "Take a node out of standby, so resources may run there again ('crm node online').")
    static final class Online implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "NODE") String node;

        @Override
        public Integer call() {
            ResourceCommands.printResult(options, spec,
                Failures.check(options.client().post(nodePath(node) + "/online", JSON.createObjectNode())).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "maintenance", description = {"Put a node in maintenance: the cluster leaves what runs there alone.",
        "It neither starts, stops nor monitors anything on the node (node attribute maintenance=on);",
        "--off ends it."})
    static final class Maintenance implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "NODE") String node;
        @Option(names = "--off", description = "End the maintenance.") boolean off;

        @Override
        public Integer call() {
            ResourceCommands.printResult(options, spec, Failures.check(options.client().post(nodePath(node) + "/maintenance",
                JSON.createObjectNode().put("on", !off))).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "attribute", description = {"Show, set or delete a permanent node attribute (crm_attribute --node):",
        "herd node attribute NODE NAME shows it, ... NAME VALUE sets it, ... NAME --delete deletes it.",
        "Location rules read them, e.g. 'location web-on-ssd web rule 100: disk eq ssd'."})
    static final class Attribute implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "NODE") String node;
        @Parameters(index = "1", paramLabel = "NAME") String name;
        @Parameters(index = "2", paramLabel = "VALUE", arity = "0..1") String value;
        @Option(names = "--delete", description = "Delete the attribute.") boolean delete;

        @Override
        public Integer call() {
            if (delete && value != null) {
                throw new CliException(ExitCode.USAGE, "give a VALUE to set or --delete, not both");
            }
            String path = nodePath(node) + "/attributes/" + ResourceCommands.segment(name);
            if (delete) {
                ResourceCommands.printResult(options, spec, Failures.check(options.client().delete(path)).body());
            } else if (value != null) {
                ResourceCommands.printResult(options, spec,
                    Failures.check(options.client().put(path, JSON.createObjectNode().put("value", value))).body());
            } else {
                return show();
            }
            return ExitCode.OK;
        }

        private int show() {
            JsonNode body = Failures.check(options.client().get("/v1/configuration")).body();
            String found = herd.scheduler.crm.CrmShell.parse(body.path("crm").asText()).nodes().stream()
                .filter(n -> n.uname().equals(node)).map(n -> n.attributes().get(name)).filter(java.util.Objects::nonNull)
                .findFirst().orElse(null);
            if (found == null) {
                throw new CliException(ExitCode.NOT_FOUND, "node " + node + " has no attribute " + name);
            }
            spec.commandLine().getOut().println(found);
            spec.commandLine().getOut().flush();
            return ExitCode.OK;
        }
    }

    @Command(name = "list", description = {"Show every node: NAME ROLE ADDRESS ZONE VNODES CAPACITY USED USE%% (like 'dog node list').",
        "The storage columns are '-' for a node that offers no storage or does not answer (see herd storage status)."})
    static final class ListNodes implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode body = Failures.check(options.client().get("/v1/nodes")).body();
            if (options.json()) {
                spec.commandLine().getOut().println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(body));
                spec.commandLine().getOut().flush();
                return ExitCode.OK;
            }
            nodeTable(body, storageStatus()).print(spec.commandLine().getOut());
            return ExitCode.OK;
        }

        /** The storage status, or null when the server has none (an older one) or it cannot be read now. */
        private JsonNode storageStatus() {
            try {
                ApiClient.Response response = options.client().get(StorageCommands.STATUS_PATH);
                return response.ok() && response.body() != null && response.body().isObject() ? response.body() : null;
            } catch (CliException e) {
                return null;
            }
        }
    }

    /**
     * The table of {@code herd node list}: the nodes of {@code GET /v1/nodes}, with the storage columns
     * from {@code GET /v1/storage/status} (matched by name) unless {@code storage} is null.
     */
    static Table nodeTable(JsonNode nodes, JsonNode storage) {
        Table table = storage == null ? new Table("NAME", "ROLE", "ADDRESS", "ZONE")
            : new Table("NAME", "ROLE", "ADDRESS", "ZONE", "VNODES", "CAPACITY", "USED", "USE%");
        Map<String, JsonNode> stores = new HashMap<>();
        if (storage != null) {
            for (JsonNode store : storage.path("nodes")) {
                stores.put(store.path("name").asText(), store);
            }
        }
        for (JsonNode node : nodes.path("nodes")) {
            String name = node.path("name").asText();
            List<Object> row = new ArrayList<>(List.of(name, node.path("role").asText(), node.path("apiAddress").asText(),
                node.path("zone").asText()));
            if (storage != null) {
                row.addAll(List.of(storageCells(stores.get(name))));
            }
            table.row(row.toArray());
        }
        return table;
    }

    /**
     * VNODES CAPACITY USED USE% of one node: {@code -} for a node that offers no storage; an unreachable
     * one shows what the cluster map knows (vnodes, capacity) and {@code -} for its use.
     */
    static String[] storageCells(JsonNode store) {
        if (store == null || store.isMissingNode()) {
            return new String[] {"-", "-", "-", "-"};
        }
        JsonNode local = store.path("local");
        long capacity = local.isObject() ? local.path("capacityBytes").asLong(store.path("capacityBytes").asLong())
            : store.path("capacityBytes").asLong();
        int vnodes = store.path("vnodes").asInt();
        String capacityText = capacity > 0 ? Sizes.format(capacity) : "-";
        if (!local.isObject()) {
            return new String[] {vnodes > 0 ? String.valueOf(vnodes) : "-", capacityText, "-", "-"};
        }
        long used = local.path("usedBytes").asLong();
        return new String[] {String.valueOf(vnodes), capacityText, Sizes.format(used), StorageCommands.usePercent(used, capacity)};
    }
}
