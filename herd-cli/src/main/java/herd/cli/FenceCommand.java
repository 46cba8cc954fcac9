package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code herd fence NODE}: asks the cluster to fence a node now (stonith_admin --reboot). The node is
 * marked lost; the leader fences it with the configured devices, and only then recovers what it ran.
 */
@Command(name = "fence", description = {"Fence a node now (stonith_admin --reboot).",
    "The leader powers it off or resets it with the configured fence devices, then recovers its resources",
    "elsewhere. Refused when no fence device is configured. Waits for the result unless --no-wait."})
final class FenceCommand implements Callable<Integer> {
    /** How often the command looks at the fencing history while it waits. */
    static final long POLL_INTERVAL_MILLIS = 500;

    @Mixin ClientOptions options;
    @Spec CommandSpec spec;
    @Parameters(index = "0", paramLabel = "NODE") String node;
    @Option(names = "--no-wait", description = "Return once the request is recorded.") boolean noWait;
    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
        description = "How long to wait for a successful fencing (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
        ApiClient client = options.client();
        JsonNode answer = Failures.check(client.post(NodeCommands.nodePath(node) + "/fence",
            new ObjectMapper().createObjectNode())).body();
        PrintWriter out = spec.commandLine().getOut();
        out.println(answer.path("result").asText());
        out.flush();
        if (noWait) {
            return ExitCode.OK;
        }
        long requestedAt = answer.path("requestedAtEpochMillis").asLong();
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        long reportedUpTo = requestedAt;
        while (System.nanoTime() < deadline) {
            JsonNode history = Failures.check(client.get("/v1/resources/status")).body().path("fencingHistory");
            for (JsonNode event : history) {
                long at = event.path("epochMillis").asLong();
                if (!event.path("target").asText().equals(node) || at < reportedUpTo) {
                    continue;
                }
                if (event.path("succeeded").asBoolean()) {
                    out.println("fenced " + node + ": " + event.path("detail").asText());
                    out.flush();
                    return ExitCode.OK;
                }
                out.println("an attempt to fence " + node + " failed (the leader retries): " + event.path("detail").asText());
                out.flush();
                reportedUpTo = at + 1;
            }
            Thread.sleep(POLL_INTERVAL_MILLIS);
        }
        throw new CliException(ExitCode.FAILURE, node + " was not fenced within " + timeoutSeconds + " s; the leader keeps "
            + "trying: 'herd status' shows the Fencing History");
    }
}
