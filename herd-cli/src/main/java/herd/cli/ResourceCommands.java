package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Resource;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd resource ...}: operate on resources of the running cluster, as crm_resource does. */
@Command(name = "resource", description = "Operate on resources (see also 'herd configure' and 'herd status').",
    subcommands = {ResourceCommands.Create.class, ResourceCommands.Update.class, ResourceCommands.Delete.class,
        ResourceCommands.Show.class, ResourceCommands.Start.class, ResourceCommands.Stop.class, ResourceCommands.Restart.class,
        ResourceCommands.Why.class, ResourceCommands.Move.class, ResourceCommands.Ban.class, ResourceCommands.Clear.class,
        ResourceCommands.Cleanup.class})
final class ResourceCommands {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How often restart looks at the status while it waits. */
    static final long POLL_INTERVAL_MILLIS = 500;

    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String resourcePath(String resource) {
        return "/v1/resources/" + segment(resource);
    }

    /** Prints the server's one-line result (or the whole answer as JSON with -o json). */
    static void printResult(ClientOptions options, CommandSpec spec, JsonNode answer) {
        PrintWriter out = spec.commandLine().getOut();
        out.println(options.json() ? answer.toPrettyString() : answer.path("result").asText());
        out.flush();
    }

    /** The statement text from the arguments (joined by blanks) or from --file, not both. */
    static String statementText(List<String> words, Path file, String what) {
        if (file != null && words != null && !words.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "give the " + what + " as an argument or with --file, not both");
        }
        if (file != null) {
            return ConfigureCommands.read(file);
        }
        if (words == null || words.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "give the " + what + " in crm shell syntax, quoted, or --file FILE");
        }
        return String.join(" ", words) + "\n";
    }

    @Command(name = "create", description = {"Create resources from crm shell statements (primitive, group, clone, ms).",
        "A group or clone may take in resources that exist already.", "",
        "Example: herd resource create 'primitive web ocf:heartbeat:nginx params configfile=/etc/nginx/nginx.conf op monitor interval=10s'"})
    static final class Create implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "STATEMENT", arity = "0..*", description = "The statement(s), quoted.")
        List<String> words;
        @Option(names = "--file", paramLabel = "FILE", description = "Read the statements from FILE instead.")
        Path file;

        @Override
        public Integer call() {
            String text = statementText(words, file, "resource");
            printResult(options, spec, Failures.check(options.client().post("/v1/resources", JSON.createObjectNode().put("crm", text))).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "update", description = {"Set or delete a resource's parameters (params) and meta attributes.", "",
        "Example: herd resource update web --param port=8080 --meta resource-stickiness=100 --delete-param configfile"})
    static final class Update implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;
        @Option(names = "--param", paramLabel = "NAME=VALUE", description = "Set an instance attribute (repeatable).")
        Map<String, String> params = new LinkedHashMap<>();
        @Option(names = "--meta", paramLabel = "NAME=VALUE", description = "Set a meta attribute (repeatable).")
        Map<String, String> meta = new LinkedHashMap<>();
        @Option(names = "--delete-param", paramLabel = "NAME", description = "Delete an instance attribute (repeatable).")
        List<String> deleteParams = new ArrayList<>();
        @Option(names = "--delete-meta", paramLabel = "NAME", description = "Delete a meta attribute (repeatable).")
        List<String> deleteMeta = new ArrayList<>();

        @Override
        public Integer call() {
            ObjectNode body = JSON.createObjectNode();
            params.forEach(body.putObject("params")::put);
            meta.forEach(body.putObject("meta")::put);
            ArrayNode deleteParamsJson = body.putArray("deleteParams");
            deleteParams.forEach(deleteParamsJson::add);
            ArrayNode deleteMetaJson = body.putArray("deleteMeta");
            deleteMeta.forEach(deleteMetaJson::add);
            printResult(options, spec, Failures.check(options.client().post(resourcePath(resource) + "/update", body)).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "delete", description = {"Delete a resource (a group or clone with what it holds).",
        "A running resource is stopped first (target-role=Stopped) and deleted once the status shows it stopped.",
        "Refused while constraints name it, unless --force, which removes those constraints too."})
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;
        @Option(names = "--force", description = "Also remove the constraints that name it.") boolean force;
        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for a running resource to stop (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Override
        public Integer call() throws InterruptedException {
            ApiClient client = options.client();
            JsonNode shown = Failures.check(client.get(resourcePath(resource))).body();
            if (running(shown)) {
                if (!force && !shown.path("constraints").isEmpty()) {
                    // refused before anything is stopped: the delete itself would be refused afterwards
                    List<String> ids = new ArrayList<>();
                    shown.path("constraints").forEach(c -> ids.add(c.asText()));
                    throw new CliException(ExitCode.USAGE, resource + " is named by the constraint" + (ids.size() == 1 ? " " : "s ")
                        + String.join(", ", ids) + ": remove " + (ids.size() == 1 ? "it" : "them")
                        + " first ('herd constraint remove ID'), or delete with --force, which removes "
                        + (ids.size() == 1 ? "it" : "them") + " too");
                }
                Failures.check(client.post(resourcePath(resource) + "/stop", JSON.createObjectNode()));
                spec.commandLine().getOut().println("stopping " + resource + " before deleting it ...");
                spec.commandLine().getOut().flush();
                if (!awaitRunning(client, resource, false, timeoutSeconds)) {
                    throw new CliException(ExitCode.FAILURE, resource + " did not stop within " + timeoutSeconds
                        + " s, so it was not deleted; it stays target-role=Stopped: see 'herd resource why " + resource + "'");
                }
            }
            printResult(options, spec, Failures.check(client.delete(resourcePath(resource) + (force ? "?force=true" : ""))).body());
            return ExitCode.OK;
        }
    }

    /** Whether any instance of the shown resource is active on a node. */
    static boolean running(JsonNode shown) {
        for (JsonNode instance : shown.path("instances")) {
            if (!instance.path("nodes").isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Waits until the resource is (or is not) running; false when the time is up. */
    static boolean awaitRunning(ApiClient client, String resource, boolean runningWanted, int timeoutSeconds)
        throws InterruptedException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (running(Failures.check(client.get(resourcePath(resource))).body()) == runningWanted) {
                return true;
            }
            Thread.sleep(POLL_INTERVAL_MILLIS);
        }
        return false;
    }

    @Command(name = "show", description = "Show a resource's definition (crm shell syntax), where it runs now, and the constraints that name it.")
    static final class Show implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;

        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get(resourcePath(resource))).body();
            PrintWriter out = spec.commandLine().getOut();
            if (options.json()) {
                out.println(body.toPrettyString());
            } else {
                out.print(body.path("crm").asText());
                out.println();
                for (JsonNode instance : body.path("instances")) {
                    List<String> nodes = new ArrayList<>();
                    instance.path("nodes").forEach(n -> nodes.add(n.asText()));
                    out.println(instance.path("id").asText() + ": " + instance.path("role").asText()
                        + (nodes.isEmpty() ? "" : " on " + String.join(" ", nodes))
                        + (instance.path("failed").asBoolean() ? " FAILED" : ""));
                }
                List<String> constraints = new ArrayList<>();
                body.path("constraints").forEach(c -> constraints.add(c.asText()));
                out.println("Constraints: " + (constraints.isEmpty() ? "none" : String.join(", ", constraints)));
            }
            out.flush();
            return ExitCode.OK;
        }
    }

    @Command(name = "start", description = "Let a resource run: meta target-role=Started (crm_resource --start).")
    static final class Start implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;

        @Override
        public Integer call() {
            printResult(options, spec, Failures.check(options.client().post(resourcePath(resource) + "/start", JSON.createObjectNode())).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "stop", description = "Stop a resource and keep it stopped: meta target-role=Stopped (crm_resource --stop).")
    static final class Stop implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;

        @Override
        public Integer call() {
            printResult(options, spec, Failures.check(options.client().post(resourcePath(resource) + "/stop", JSON.createObjectNode())).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "restart", description = {"Stop a running resource, then start it again (crm_resource --restart).",
        "Waits until the status shows it stopped, then restores the target-role it had."})
    static final class Restart implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;
        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for the stop, and then for the start (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Override
        public Integer call() throws InterruptedException {
            ApiClient client = options.client();
            JsonNode shown = Failures.check(client.get(resourcePath(resource))).body();
            if (!running(shown)) {
                throw new CliException(ExitCode.FAILURE, resource + " is not running, so there is nothing to restart: "
                    + "'herd resource start " + resource + "' starts it, 'herd resource why " + resource + "' says why it is stopped");
            }
            String targetRole = targetRole(shown.path("crm").asText(), resource);
            Failures.check(client.post(resourcePath(resource) + "/stop", JSON.createObjectNode()));
            PrintWriter out = spec.commandLine().getOut();
            out.println("stopping " + resource + " ...");
            out.flush();
            if (!await(client, false)) {
                throw new CliException(ExitCode.FAILURE, resource + " did not stop within " + timeoutSeconds + " s; it stays "
                    + "target-role=Stopped: see 'herd resource why " + resource + "', then 'herd resource start " + resource + "'");
            }
            ObjectNode restore = JSON.createObjectNode();
            if (targetRole == null) {
                restore.putArray("deleteMeta").add("target-role");
            } else {
                restore.putObject("meta").put("target-role", targetRole);
            }
            Failures.check(client.post(resourcePath(resource) + "/update", restore));
            out.println("starting " + resource + " ...");
            out.flush();
            if (!await(client, true)) {
                throw new CliException(ExitCode.FAILURE, resource + " stopped but did not start again within " + timeoutSeconds
                    + " s: see 'herd resource why " + resource + "' and 'herd status'");
            }
            out.println("restarted " + resource);
            out.flush();
            return ExitCode.OK;
        }

        private boolean await(ApiClient client, boolean runningWanted) throws InterruptedException {
            return awaitRunning(client, resource, runningWanted, timeoutSeconds);
        }

        private static String targetRole(String crm, String resource) {
            Resource found = CrmShell.parse(crm).find(resource).orElseThrow(() -> new CliException(ExitCode.FAILURE,
                "the server's definition of " + resource + " does not hold it"));
            return found.meta().get("target-role");
        }
    }

    @Command(name = "why", description = {"Explain where a resource runs and why not elsewhere.",
        "Shows its placement score on every node and the reasons it cannot run on some (offline, standby,",
        "maintenance, bans, fail counts at migration-threshold, target-role)."})
    static final class Why implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;

        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get(resourcePath(resource) + "/why")).body();
            PrintWriter out = spec.commandLine().getOut();
            if (options.json()) {
                out.println(body.toPrettyString());
                out.flush();
                return ExitCode.OK;
            }
            List<String> running = new ArrayList<>();
            body.path("runningOn").forEach(n -> running.add(n.asText()));
            out.println(resource + ": " + (running.isEmpty() ? "Stopped" : body.path("role").asText() + " on " + String.join(" ", running)));
            Table table = new Table("NODE", "SCORE", "REASONS");
            for (JsonNode node : body.path("nodes")) {
                List<String> reasons = new ArrayList<>();
                node.path("reasons").forEach(r -> reasons.add(r.asText()));
                table.row(node.path("node").asText(), node.path("score").asText(), reasons.isEmpty() ? "-" : String.join("; ", reasons));
            }
            table.print(out);
            for (JsonNode reason : body.path("reasons")) {
                out.println("* " + reason.asText());
            }
            out.flush();
            return ExitCode.OK;
        }
    }

    /** Move and ban: a node and an optional lifetime. */
    abstract static class Placement implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;
        @Parameters(index = "1", paramLabel = "NODE") String node;
        @Option(names = "--lifetime", paramLabel = "DURATION",
            description = "The constraint ends by itself after this long: 30m, 2h, 1d or ISO-8601 (PT30M). Default: permanent.")
        String lifetime;

        abstract String action();

        @Override
        public Integer call() {
            ObjectNode body = JSON.createObjectNode().put("node", node);
            if (lifetime != null) {
                body.put("lifetime", lifetime);
            }
            printResult(options, spec, Failures.check(options.client().post(resourcePath(resource) + "/" + action(), body)).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "move", description = {"Move a resource to a node (crm_resource --move).",
        "Adds location cli-prefer-RESOURCE with score INFINITY; the resource stays there until",
        "'herd resource clear' or the lifetime ends."})
    static final class Move extends Placement {
        @Override
        String action() {
            return "move";
        }
    }

    @Command(name = "ban", description = {"Keep a resource off a node (crm_resource --ban).",
        "Adds location cli-ban-RESOURCE-on-NODE with score -INFINITY, until 'herd resource clear' or the",
        "lifetime ends."})
    static final class Ban extends Placement {
        @Override
        String action() {
            return "ban";
        }
    }

    @Command(name = "clear", description = "Remove the moves and bans of a resource (crm_resource --clear), everywhere or on one node.")
    static final class Clear implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "RESOURCE") String resource;
        @Option(names = "--node", paramLabel = "NODE", description = "Only the ban from this node and a move to it.") String node;

        @Override
        public Integer call() {
            ObjectNode body = JSON.createObjectNode();
            if (node != null) {
                body.put("node", node);
            }
            printResult(options, spec, Failures.check(options.client().post(resourcePath(resource) + "/clear", body)).body());
            return ExitCode.OK;
        }
    }

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
