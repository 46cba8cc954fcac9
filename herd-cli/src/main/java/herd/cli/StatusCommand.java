package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd status}: the control plane and the resources, in the layout crm_mon users know. */
@Command(name = "status", description = {"Show the cluster: summary, servers, nodes, resources, failed actions, "
    + "fail counts and fencing history (the layout of crm_mon).", "",
    "Exit code 0 when it could be read; 3 when no node answered."})
final class StatusCommand implements Callable<Integer> {
    /** How often --watch refreshes. */
    static final long WATCH_INTERVAL_MILLIS = 2_000;

    @Mixin ClientOptions options;
    @Spec CommandSpec spec;
    @Option(names = "--watch", description = "Refresh every 2 seconds until interrupted (Ctrl-C).")
    boolean watch;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        while (true) {
            ApiClient client = options.client();
            JsonNode status = Failures.check(client.get("/v1/status")).body();
            JsonNode servers = Failures.check(client.get("/v1/servers")).body();
            JsonNode resources = Failures.check(client.get("/v1/resources/status")).body();
            // a node of an older version has no /v1/constraints: the status is still worth showing
            ApiClient.Response constraints = client.get("/v1/constraints");
            JsonNode operatorConstraints = constraints.ok() ? constraints.body().path("operatorConstraints")
                : new ObjectMapper().createArrayNode();
            if (watch) {
                out.print("\u001b[H\u001b[2J");
            }
            if (options.json()) {
                ObjectNode all = new ObjectMapper().createObjectNode();
                all.set("cluster", status);
                all.set("servers", servers.path("servers"));
                all.set("resources", resources);
                all.set("operatorConstraints", operatorConstraints);
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(all));
            } else {
                print(out, status, servers, resources);
                printOperatorConstraints(out, operatorConstraints);
            }
            out.flush();
            if (!watch) {
                return ExitCode.OK;
            }
            Thread.sleep(WATCH_INTERVAL_MILLIS);
        }
    }

    static void print(PrintWriter out, JsonNode status, JsonNode servers, JsonNode resources) {
        out.println("Cluster Summary:");
        out.println("  * Cluster: " + status.path("cluster").asText() + "   leader: " + status.path("leader").asText()
            + " (term " + status.path("term").asLong() + ")   quorum: " + (status.path("leader").asText("-").equals("-") ? "NO" : "yes"));
        out.println("  * Revision: " + status.path("revision").asLong() + "   keys: " + status.path("keys").asLong()
            + "   applied index: " + status.path("appliedIndex").asLong());
        out.println("  * " + status.path("servers").asInt() + " servers, " + status.path("workers").asInt() + " workers; "
            + resources.path("resources").size() + " resource instances configured (configuration version "
            + resources.path("configurationVersion").asLong() + ")");
        out.println("  * Fencing: " + (resources.path("fencingInUse").asBoolean()
            ? "on" : "off (leases: a lost node's resources move once its lease has expired)"));
        out.println();
        out.println("Servers:");
        Table table = new Table("NAME", "ENDPOINT", "STATE", "TERM", "INDEX", "COMMIT");
        for (JsonNode row : servers.path("servers")) {
            table.row(row.path("name").asText(), row.path("endpoint").asText(), row.path("state").asText(),
                row.path("term").asLong(), row.path("index").asLong(), row.path("commit").asLong());
        }
        table.print(out);
        out.println();
        printNodes(out, resources.path("nodes"));
        printResources(out, resources.path("resources"));
        printFailedActions(out, resources.path("failedActions"));
        printFailCounts(out, resources.path("failCounts"));
        printFencing(out, resources.path("fencingHistory"));
    }

    private static void printNodes(PrintWriter out, JsonNode nodes) {
        Map<String, List<String>> byState = new LinkedHashMap<>();
        for (String state : List.of("online", "standby", "maintenance", "offline", "lost")) {
            byState.put(state, new ArrayList<>());
        }
        for (JsonNode node : nodes) {
            byState.computeIfAbsent(node.path("state").asText(), s -> new ArrayList<>()).add(node.path("name").asText());
        }
        out.println("Node List:");
        byState.forEach((state, names) -> {
            if (!names.isEmpty()) {
                String label = switch (state) {
                    case "online" -> "Online";
                    case "standby" -> "Node standby";
                    case "maintenance" -> "Node maintenance";
                    case "offline" -> "OFFLINE";
                    case "lost" -> "UNCLEAN (lost, waiting for fencing or its lease)";
                    default -> state;
                };
                out.println("  * " + label + ": [ " + String.join(" ", names) + " ]");
            }
        });
        for (JsonNode node : nodes) {
            if (node.path("state").asText().equals("lost")) {
                out.println("    " + node.path("name").asText() + ": " + node.path("reason").asText());
            }
        }
        out.println();
    }

    private static void printResources(PrintWriter out, JsonNode resources) {
        out.println("Full List of Resources:");
        if (resources.isEmpty()) {
            out.println("  * No resources");
        }
        String currentParent = null;
        for (JsonNode resource : resources) {
            String parent = resource.path("parent").isNull() ? null : resource.path("parent").asText(null);
            if (parent != null && !parent.equals(currentParent)) {
                out.println("  * " + parent + ":");
            }
            currentParent = parent;
            List<String> nodes = new ArrayList<>();
            resource.path("nodes").forEach(n -> nodes.add(n.asText()));
            String where = nodes.isEmpty() ? "" : " " + String.join(" ", nodes);
            String flags = (resource.path("failed").asBoolean() ? " FAILED" : "")
                + (resource.path("managed").asBoolean(true) ? "" : " (unmanaged)");
            out.println((parent == null ? "  * " : "    * ") + resource.path("id").asText() + "\t("
                + resource.path("agent").asText() + "):\t " + resource.path("role").asText() + where + flags);
        }
        out.println();
    }

    /** What move and ban added (cli-prefer-*, cli-ban-*), so an operator sees what pins a resource. */
    static void printOperatorConstraints(PrintWriter out, JsonNode constraints) {
        if (constraints.isEmpty()) {
            return;
        }
        out.println("Operator constraints:");
        for (JsonNode c : constraints) {
            boolean ban = c.path("kind").asText().equals("ban");
            String expires = c.path("expires").isTextual() ? c.path("expires").asText() : null;
            String lifetime = expires == null ? "permanent"
                : c.path("expired").asBoolean() ? "expired " + expires : "until " + expires;
            out.println("  * " + c.path("id").asText() + ": " + c.path("resource").asText() + (ban ? " banned from " : " prefers ")
                + c.path("node").asText() + " (" + lifetime + "; 'herd resource clear " + c.path("resource").asText()
                + "' removes it)");
        }
        out.println();
    }

    private static void printFailedActions(PrintWriter out, JsonNode failed) {
        if (failed.isEmpty()) {
            return;
        }
        out.println("Failed Resource Actions:");
        for (JsonNode action : failed) {
            out.println("  * " + action.path("resource").asText() + "_" + action.path("operation").asText() + "_"
                + action.path("intervalMillis").asLong() + " on " + action.path("node").asText() + " '"
                + action.path("rcText").asText() + "' (" + action.path("rc").asInt() + "): status="
                + execStatus(action.path("execStatus").asInt())
                + (action.path("exitReason").asText().isEmpty() ? "" : ", exitreason='" + action.path("exitReason").asText() + "'")
                + ", last-rc-change='" + Instant.ofEpochMilli(action.path("epochMillis").asLong()) + "'");
        }
        out.println();
    }

    private static void printFailCounts(PrintWriter out, JsonNode counts) {
        if (counts.isEmpty()) {
            return;
        }
        out.println("Migration Summary:");
        String node = null;
        for (JsonNode count : counts) {
            if (!count.path("node").asText().equals(node)) {
                node = count.path("node").asText();
                out.println("  * Node: " + node + ":");
            }
            out.println("    * " + count.path("resource").asText() + ": fail-count=" + count.path("count").asInt()
                + " (" + count.path("operation").asText() + ")");
        }
        out.println();
    }

    private static void printFencing(PrintWriter out, JsonNode history) {
        if (history.isEmpty()) {
            return;
        }
        out.println("Fencing History:");
        for (JsonNode event : history) {
            out.println("  * reboot of " + event.path("target").asText() + " "
                + (event.path("succeeded").asBoolean() ? "successful" : "failed") + ": " + event.path("detail").asText()
                + " at '" + Instant.ofEpochMilli(event.path("epochMillis").asLong()) + "'");
        }
        out.println();
    }

    private static String execStatus(int code) {
        return switch (code) {
            case 0 -> "'complete'";
            case 1 -> "'cancelled'";
            case 2 -> "'Timed Out'";
            case 3 -> "'not supported'";
            case 4 -> "'error'";
            case 5 -> "'hard error'";
            case 6 -> "'fatal error'";
            case 7 -> "'not installed'";
            default -> "'" + code + "'";
        };
    }
}
