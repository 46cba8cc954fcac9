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

/** {@code herd server ...}: the voting servers of the Raft group. */
@Command(name = "server", description = "List, add and remove the cluster's voting servers (one change at a time).",
    subcommands = {ServerCommands.ListServers.class, ServerCommands.Add.class, ServerCommands.Remove.class,
        ServerCommands.TransferLeadership.class})
final class ServerCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    abstract static class ServerCommand implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        void printResult(JsonNode body) throws Exception {
            if (options.json()) {
                spec.commandLine().getOut().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
            } else {
                spec.commandLine().getOut().println(body.path("result").asText());
            }
            spec.commandLine().getOut().flush();
        }
    }

    @Command(name = "list", description = "Show every server: ID NAME ENDPOINT STATE TERM INDEX COMMIT VOTE.")
    static final class ListServers extends ServerCommand {
        @Override
        public Integer call() throws Exception {
            JsonNode body = Failures.check(options.client().get("/v1/servers")).body();
            if (options.json()) {
                spec.commandLine().getOut().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
                spec.commandLine().getOut().flush();
                return ExitCode.OK;
            }
            Table table = new Table("ID", "NAME", "ENDPOINT", "STATE", "TERM", "INDEX", "COMMIT", "VOTE");
            for (JsonNode row : body.path("servers")) {
                table.row(row.path("id").asInt(), row.path("name").asText(), row.path("endpoint").asText(),
                    row.path("state").asText(), dash(row.path("term").asLong()), dash(row.path("index").asLong()),
                    dash(row.path("commit").asLong()), row.path("vote").asText());
            }
            table.print(spec.commandLine().getOut());
            return ExitCode.OK;
        }

        private static String dash(long value) {
            return value < 0 ? "-" : Long.toString(value);
        }
    }

    @Command(name = "add", description = {"Add the voting server NAME, listening at HOST:PORT (its API).",
        "Start it first on its machine: herd agent --join --name NAME --address HOST:PORT --data DIR --secret-file cluster.secret",
        "Refused while another membership change is in flight or a current server is unreachable."})
    static final class Add extends ServerCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "HOST:PORT") String address;
        @Option(names = "--raft-address", paramLabel = "HOST:PORT", description = "Its Raft address (default: API port + 1).")
        String raftAddress;

        @Override
        public Integer call() throws Exception {
            ObjectNode body = JSON.createObjectNode().put("name", name).put("address", address);
            if (raftAddress != null) {
                body.put("raftAddress", raftAddress);
            }
            printResult(Failures.check(options.client().post("/v1/servers", body)).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "remove", description = {"Remove the voting server NAME (refused for the last one).",
        "Refused while NAME has volumes attached or holds the only copy of some object; a storage node that is down "
        + "cannot be checked and is removed only with --force."})
    static final class Remove extends ServerCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Option(names = "--force", description = "Remove NAME although it is down and may hold the only copy of some "
            + "objects: they are lost.") boolean force;

        @Override
        public Integer call() throws Exception {
            printResult(Failures.check(options.client().delete("/v1/servers/" + name + (force ? "?force=true" : ""))).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "transfer-leadership", description = "Make NAME the leader (e.g. before maintenance of the current one).")
    static final class TransferLeadership extends ServerCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;

        @Override
        public Integer call() throws Exception {
            printResult(Failures.check(options.client().post("/v1/servers/" + name + "/transfer-leadership",
                JSON.createObjectNode())).body());
            return ExitCode.OK;
        }
    }
}
