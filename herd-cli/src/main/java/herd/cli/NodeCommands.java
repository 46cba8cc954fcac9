package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd node ...}: every machine of the cluster, servers and workers. */
@Command(name = "node", description = "Nodes of the cluster (servers and workers).", subcommands = NodeCommands.ListNodes.class)
final class NodeCommands {
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
