package herd.it;

import static herd.it.NamespaceGroups.awaitCondition;
import static herd.it.NamespaceGroups.awaitGroupOn;
import static herd.it.NamespaceGroups.nodeField;
import static herd.it.NamespaceGroups.webAnswers;
import static org.assertj.core.api.Assertions.assertThat;

import herd.it.netns.AddressSampler;
import herd.it.netns.BridgedNetwork;
import herd.it.netns.Commands;
import herd.it.netns.HoldTimeline;
import herd.it.netns.Namespaces;
import herd.it.netns.NetnsCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node death with fencing on. Three servers in network namespaces run a group of a floating IP, a
 * database-like process and a web server; the test kills every process of the node running it (herd
 * and the services: the machine hangs, its network card still holds the address). The cluster fences
 * the node (this test's fence device powers the namespace off: kills what is left and takes its
 * addresses down), and only then starts the group on a survivor: the floating address is never held
 * twice, and the web server answers on it again.
 *
 * <p>Needs root, iproute2 and curl; skipped otherwise.
 */
@Timeout(240)
class ResourceFencingIT {
    private static final String SUBNET = "10.213.9";
    private static final int FLOATING_HOST = 100;
    private static final int WEB_PORT = 8080;
    private static final List<String> GROUP = List.of("ip", "db", "web");
    private static final int DB_PORT = 5433;
    private static final Duration SAMPLE_PERIOD = Duration.ofMillis(50);
    private static final Path HERD_JAR = Path.of("..", "herd-cli", "target", "herd.jar").toAbsolutePath().normalize();

    @BeforeAll
    static void requireNetworkNamespaces() {
        NetnsCluster.requireOrSkip("fencing test");
    }

    @Test
    void aDeadNodeIsFencedBeforeItsGroupComesBackOnAnother(@TempDir Path work) throws Exception {
        try (Namespaces namespaces = new Namespaces()) {
            BridgedNetwork network = BridgedNetwork.create(namespaces, SUBNET, 3);
            String floating = network.spareAddressWithPrefix(FLOATING_HOST);
            String floatingIp = floating.substring(0, floating.indexOf('/'));
            String prefix = floating.substring(floating.indexOf('/') + 1);
            Path fenceScript = writeFenceDevice(work, network);
            Path dbScript = Files.writeString(work.resolve("db.py"), """
                import socket, time
                server = socket.create_server(("0.0.0.0", %d))
                while True:
                    time.sleep(3600)
                """.formatted(DB_PORT));
            NetnsCluster.Hooks noHooks = new NetnsCluster.Hooks("true", "true");
            try (NetnsCluster cluster = NetnsCluster.start(network, work, HERD_JAR, List.of(), server -> noHooks);
                 AddressSampler sampler = new AddressSampler(network, floatingIp, SAMPLE_PERIOD)) {
                String crm = "primitive ip herd:floating-ip params ip=" + floatingIp + " cidr_netmask=" + prefix + " nic="
                    + BridgedNetwork.DEVICE + " op monitor interval=2s timeout=10s\n"
                    + "primitive db herd:process params command=\"python3 " + dbScript + "\" check_tcp=127.0.0.1:" + DB_PORT
                    + " op monitor interval=2s timeout=20s\n"
                    + "primitive web herd:process params command=\"python3 -m http.server " + WEB_PORT + " --bind 0.0.0.0\" "
                    + "check_http=http://127.0.0.1:" + WEB_PORT + "/ op monitor interval=2s timeout=20s\n"
                    + "group service ip db web\n"
                    + "primitive fence-lab stonith:herd-script params command=" + fenceScript + "\n"
                    + "property stonith-enabled=true\n"
                    + "rsc_defaults resource-stickiness=100\n";
                NetnsCluster.ApiResponse load = cluster.api(1, "PUT", "/v1/configuration",
                    HttpKv.JSON.createObjectNode().put("crm", crm).toString(), Duration.ofSeconds(30));
                assertThat(load.ok()).as(load.text()).isTrue();

                int holder = awaitGroupOn(cluster, network, 0, GROUP);
                awaitCondition(() -> webAnswers(network, floatingIp, WEB_PORT), "the web server answers on " + floatingIp, cluster);

                long deathAtMillis = sampler.nowMillis();
                killEverythingIn(network.serverNamespace(holder)); // herd and its services die; the NIC stays up
                int taker = awaitGroupOn(cluster, network, holder, GROUP);
                awaitCondition(() -> webAnswers(network, floatingIp, WEB_PORT), "the web server answers again on " + floatingIp, cluster);
                long backAtMillis = sampler.nowMillis();
                HoldTimeline timeline = sampler.timeline();

                String evidence = "\nchanges seen: " + timeline.changes() + "\n" + cluster.diagnostics();
                String fenced = Files.exists(work.resolve("fenced.log")) ? Files.readString(work.resolve("fenced.log")) : "";
                assertThat(fenced).as("the fence device was asked to power s%d off%s", holder, evidence)
                    .contains("s" + holder);
                long overlapMillis = timeline.longestPossibleOverlap().map(HoldTimeline.Overlap::lengthMillis).orElse(0L);
                System.out.printf("fencing: killed s%d; the group came back on s%d and web answered %d ms after the death; "
                    + "longest possible double hold of %s: %d ms%n", holder, taker, backAtMillis - deathAtMillis, floatingIp,
                    overlapMillis);
                assertThat(overlapMillis).as("two nodes held the floating address" + evidence).isZero();
                assertThat(nodeField(cluster, taker, "s" + holder, "reason")).startsWith("fenced");
            }
        }
    }

    /** Powers a node's namespace off: kills every process in it and takes its addresses and link down. */
    private static Path writeFenceDevice(Path work, BridgedNetwork network) throws Exception {
        StringBuilder cases = new StringBuilder();
        for (int server = 1; server <= network.serverCount(); server++) {
            cases.append("  s").append(server).append(") ns=").append(network.serverNamespace(server)).append(" ;;\n");
        }
        Path script = work.resolve("fence.sh");
        Files.writeString(script, """
            #!/bin/sh
            case "$HERD_FENCE_ACTION" in off|reboot) ;; *) exit 0 ;; esac
            case "$HERD_FENCE_TARGET" in
            %s  *) echo "unknown node $HERD_FENCE_TARGET" >&2; exit 1 ;;
            esac
            # every process of the node, except the test's own address monitor (an `ip monitor` in there)
            for pid in $(ip netns pids "$ns"); do
              [ "$(cat /proc/$pid/comm 2>/dev/null)" = ip ] || kill -9 "$pid" 2>/dev/null
            done
            ip -n "$ns" addr flush dev %s
            ip -n "$ns" link set %s down
            echo "$HERD_FENCE_ACTION $HERD_FENCE_TARGET" >> "%s"
            """.formatted(cases, BridgedNetwork.DEVICE, BridgedNetwork.DEVICE, work.resolve("fenced.log")));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private static void killEverythingIn(String namespace) {
        // Every process but the test's own address monitor (an `ip monitor` running in the namespace).
        Commands.run(List.of("sh", "-c", "for pid in $(ip netns pids " + namespace + "); do "
            + "[ \"$(cat /proc/$pid/comm 2>/dev/null)\" = ip ] || kill -9 $pid 2>/dev/null; done; true"), Duration.ofSeconds(10)).orThrow();
    }
}
