package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", description = "Show the cluster: name, leader, term, revision, servers and nodes.")
final class StatusCommand implements Callable<Integer> {
    @Mixin ClientOptions options;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ApiClient client = options.client();
        JsonNode status = Failures.check(client.get("/v1/status")).body();
        PrintWriter out = spec.commandLine().getOut();
        if (options.json()) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(status));
            out.flush();
            return ExitCode.OK;
        }
        out.println("Cluster: " + status.path("cluster").asText() + "   leader: " + status.path("leader").asText()
            + "   term: " + status.path("term").asLong());
        out.println("Revision: " + status.path("revision").asLong() + "   keys: " + status.path("keys").asLong()
            + "   applied index: " + status.path("appliedIndex").asLong());
        out.println("Servers: " + status.path("servers").asInt() + "   workers: " + status.path("workers").asInt());
        out.println();
        JsonNode servers = Failures.check(client.get("/v1/servers")).body();
        Table table = new Table("NAME", "ENDPOINT", "STATE", "TERM", "INDEX", "COMMIT");
        for (JsonNode row : servers.path("servers")) {
            table.row(row.path("name").asText(), row.path("endpoint").asText(), row.path("state").asText(),
                row.path("term").asLong(), row.path("index").asLong(), row.path("commit").asLong());
        }
        table.print(out);
        return ExitCode.OK;
    }
}
