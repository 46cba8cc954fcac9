package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        NodeCommands.Maintenance.class, NodeCommands.Attribute.class})
final class NodeCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String nodePath(String node) {
        return "/v1/nodes/" + ResourceCommands.segment(node);
    }

    @Command(name = "standby", description = {"Put a node in standby: its resources move away and nothing starts there",
        "(permanent node attribute standby=on, like 'crm node standby')."})
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

    @Command(name = "maintenance", description = {"Put a node in maintenance: the cluster neither starts, stops nor monitors",
        "what runs there (node attribute maintenance=on); --off ends it."})
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

    @Command(name = "list", description = "Show every node: NAME ROLE ADDRESS ZONE.")
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
            Table table = new Table("NAME", "ROLE", "ADDRESS", "ZONE");
            for (JsonNode node : body.path("nodes")) {
                table.row(node.path("name").asText(), node.path("role").asText(), node.path("apiAddress").asText(),
                    node.path("zone").asText());
            }
            table.print(spec.commandLine().getOut());
            return ExitCode.OK;
        }
    }
}
