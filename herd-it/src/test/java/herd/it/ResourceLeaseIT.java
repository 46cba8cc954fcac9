package herd.it;

import static herd.it.NamespaceGroups.awaitCondition;
import static herd.it.NamespaceGroups.awaitGroupOn;
import static herd.it.NamespaceGroups.nodeField;
import static herd.it.NamespaceGroups.webAnswers;
import static org.assertj.core.api.Assertions.assertThat;

import herd.it.netns.AddressSampler;
import herd.it.netns.BridgedNetwork;
import herd.it.netns.HoldTimeline;
import herd.it.netns.Namespaces;
import herd.it.netns.NetnsCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without fencing, safety comes from leases. Three servers in network namespaces run a group of a
 * floating IP (herd:floating-ip) and a web server (herd:process); the test cuts the node running it
 * off the network. That node stops the group by itself when its lease runs out, and the others
 * start it only after lease + margin: the floating address, sampled in every namespace, is never
 * held twice, and the web server answers on it again from the new node. When the cut heals, the
 * node rejoins and the group stays where it is.
 *
 * <p>Needs root, iproute2 and curl; skipped otherwise.
 */
@Timeout(240)
class ResourceLeaseIT {
    private static final String SUBNET = "10.213.8";
    private static final int FLOATING_HOST = 100;
    private static final int WEB_PORT = 8080;
    private static final List<String> GROUP = List.of("ip", "web");
    /** The default lease: a cut-off node stops its resources within it. */
    private static final long LEASE_MILLIS = herd.coordinator.CoordinatorSettings.DEFAULT_LEASE_MILLIS;
    /**
     * Stopping the group (SIGTERM to the web server, ip addr del) and noticing it: tens of
     * milliseconds on an idle machine, up to a second or two on a loaded 2-core one.
     */
    private static final long STOP_MARGIN_MILLIS = 2_500;
    private static final Duration SAMPLE_PERIOD = Duration.ofMillis(50);
    private static final Path HERD_JAR = Path.of("..", "herd-cli", "target", "herd.jar").toAbsolutePath().normalize();

    @BeforeAll
    static void requireNetworkNamespaces() {
        NetnsCluster.requireOrSkip("lease test");
    }

    @Test
    void aCutOffNodeStopsItsGroupWithinItsLeaseBeforeAnotherNodeStartsIt(@TempDir Path work) throws Exception {
        try (Namespaces namespaces = new Namespaces()) {
            BridgedNetwork network = BridgedNetwork.create(namespaces, SUBNET, 3);
            String floating = network.spareAddressWithPrefix(FLOATING_HOST);
            String floatingIp = floating.substring(0, floating.indexOf('/'));
            String prefix = floating.substring(floating.indexOf('/') + 1);
            NetnsCluster.Hooks noHooks = new NetnsCluster.Hooks("true", "true");
            try (NetnsCluster cluster = NetnsCluster.start(network, work, HERD_JAR, List.of(), server -> noHooks);
                 AddressSampler sampler = new AddressSampler(network, floatingIp, SAMPLE_PERIOD)) {
                String crm = "primitive ip herd:floating-ip params ip=" + floatingIp + " cidr_netmask=" + prefix + " nic="
                    + BridgedNetwork.DEVICE + " op monitor interval=2s timeout=10s\n"
                    + "primitive web herd:process params command=\"python3 -m http.server " + WEB_PORT + " --bind 0.0.0.0\" "
                    + "check_http=http://127.0.0.1:" + WEB_PORT + "/ op monitor interval=2s timeout=20s\n"
                    + "group service ip web\n"
                    + "rsc_defaults resource-stickiness=100\n";
                NetnsCluster.ApiResponse load = cluster.api(1, "PUT", "/v1/configuration",
                    HttpKv.JSON.createObjectNode().put("crm", crm).toString(), Duration.ofSeconds(30));
                assertThat(load.ok()).as(load.text()).isTrue();

                int holder = awaitGroupOn(cluster, network, 0, GROUP);
                awaitCondition(() -> webAnswers(network, floatingIp, WEB_PORT), "the web server answers on " + floatingIp, cluster);

                long cutAtMillis = sampler.nowMillis();
                network.isolate(holder);
                int taker = awaitGroupOn(cluster, network, holder, GROUP);
                awaitCondition(() -> webAnswers(network, floatingIp, WEB_PORT), "the web server answers again on " + floatingIp, cluster);
                Thread.sleep(1_000);
                HoldTimeline cut = sampler.timeline();

                String evidence = "\nchanges seen: " + cut.changes() + "\n" + cluster.diagnostics();
                assertThat(cut.firstSeenWithout(holder, cutAtMillis)).as("s%d dropped the address%s", holder, evidence).isPresent();
                assertThat(cut.firstSeenHeldByOtherThan(holder, cutAtMillis)).as("another took the address%s", evidence).isPresent();
                long dropMillis = cut.firstSeenWithout(holder, cutAtMillis).orElseThrow() - cutAtMillis;
                long takeMillis = cut.firstSeenHeldByOtherThan(holder, cutAtMillis).orElseThrow().atMillis() - cutAtMillis;
                long overlapMillis = cut.longestPossibleOverlap().map(HoldTimeline.Overlap::lengthMillis).orElse(0L);
                System.out.printf("lease: cut off s%d; it dropped %s %d ms after the cut (lease %d ms); s%d took it %d ms "
                    + "after the cut; longest possible double hold %d ms%n", holder, floatingIp, dropMillis, LEASE_MILLIS,
                    taker, takeMillis, overlapMillis);
                assertThat(dropMillis).as("ms until the cut-off node stopped the group" + evidence)
                    .isLessThanOrEqualTo(LEASE_MILLIS + STOP_MARGIN_MILLIS);
                assertThat(overlapMillis).as("two nodes held the floating address" + evidence).isZero();
                assertThat(takeMillis).as("the group started elsewhere before the lease had expired" + evidence)
                    .isGreaterThan(LEASE_MILLIS);

                network.reconnect(holder);
                awaitCondition(() -> nodeField(cluster, taker, NetnsCluster.name(holder), "state").equals("online"),
                    "s" + holder + " rejoins after the cut heals", cluster);
                Thread.sleep(3_000);
                assertThat(sampler.timeline().holdersAtEnd()).as("the group stays on s%d", taker).containsExactly(taker);
            }
        }
    }
}
