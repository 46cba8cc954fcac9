package herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import herd.it.netns.BridgedNetwork;
import herd.it.netns.Commands;
import herd.it.netns.Namespaces;
import herd.it.netns.NetnsCluster;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** What the resource tests in network namespaces ask of the cluster: where a group runs, and whether its web server answers. */
final class NamespaceGroups {
    /** The longest any step of these tests may take (start-up excluded). */
    static final Duration STEP_LIMIT = Duration.ofSeconds(40);

    private NamespaceGroups() {}

    /** True when an HTTP GET from the hub namespace to {@code ip:port} succeeds. */
    static boolean webAnswers(BridgedNetwork network, String ip, int port) {
        return Commands.run(Namespaces.inside(network.hubNamespace(), List.of("curl", "-sf", "-o", "/dev/null",
            "--max-time", "2", "http://" + ip + ":" + port + "/")), Duration.ofSeconds(5)).ok();
    }

    /**
     * Waits until one server other than {@code notOn} (0: any) runs every resource of {@code members},
     * as some server's status shows it; returns that server's number.
     */
    static int awaitGroupOn(NetnsCluster cluster, BridgedNetwork network, int notOn, List<String> members)
        throws InterruptedException {
        int[] found = new int[1];
        awaitCondition(() -> {
            for (int asked = 1; asked <= network.serverCount(); asked++) {
                if (asked == notOn) {
                    continue;
                }
                NetnsCluster.ApiResponse status = cluster.api(asked, "GET", "/v1/resources/status?consistency=local", null,
                    Duration.ofSeconds(5));
                if (!status.ok()) {
                    continue;
                }
                String node = startedOn(status.body(), members.get(0));
                boolean together = node != null && members.stream().allMatch(m -> node.equals(startedOn(status.body(), m)));
                if (together && !node.equals(NetnsCluster.name(notOn))) {
                    found[0] = Integer.parseInt(node.substring(1));
                    return true;
                }
            }
            return false;
        }, "the group runs on a server other than s" + notOn, cluster);
        return found[0];
    }

    /** The one node the status shows {@code resource} started on, healthy, or null. */
    static String startedOn(JsonNode status, String resource) {
        for (JsonNode line : status.path("resources")) {
            if (line.path("id").asText().equals(resource) && line.path("role").asText().equals("Started")
                && line.path("nodes").size() == 1 && !line.path("failed").asBoolean()) {
                return line.path("nodes").get(0).asText();
            }
        }
        return null;
    }

    /** A field of a node's line in {@code asked}'s status ("" when it cannot be read). */
    static String nodeField(NetnsCluster cluster, int asked, String node, String field) {
        NetnsCluster.ApiResponse status = cluster.api(asked, "GET", "/v1/resources/status", null, Duration.ofSeconds(5));
        if (!status.ok()) {
            return "";
        }
        for (JsonNode line : status.body().path("nodes")) {
            if (line.path("name").asText().equals(node)) {
                return line.path(field).asText();
            }
        }
        return "";
    }

    static void awaitCondition(BooleanSupplier condition, String what, NetnsCluster cluster) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what + "\n" + cluster.diagnostics());
            }
            Thread.sleep(100);
        }
    }
}
