package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd resource ...}: operate on resources of the running cluster. */
@Command(name = "resource", description = "Operate on resources (see also 'herd configure' and 'herd status').",
    subcommands = ResourceCommands.Cleanup.class)
final class ResourceCommands {

    @Command(name = "cleanup", description = {"Forget a resource's failures and operation history, on one node or "
        + "everywhere, so the cluster probes it again and may run it where it failed (crm_resource --cleanup).", "",
        "Example: herd resource cleanup web --node n2"})
    static final class Cleanup implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE", description = "The resource id (as 'herd status' shows it).")
        String resource;
        @Option(names = "--node", paramLabel = "NODE", description = "Only on this node (default: every node).")
        String node;

        @Override
        public Integer call() throws Exception {
            ObjectNode body = new ObjectMapper().createObjectNode().put("resource", resource);
            if (node != null) {
                body.put("node", node);
            }
            JsonNode answer = Failures.check(options.client().post("/v1/resources/cleanup", body)).body();
            spec.commandLine().getOut().println(answer.path("result").asText());
            spec.commandLine().getOut().flush();
            return ExitCode.OK;
        }
    }
}
