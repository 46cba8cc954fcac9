package herd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import herd.control.ControlPlaneConfig;
import herd.it.netns.AddressSampler;
import herd.it.netns.BridgedNetwork;
import herd.it.netns.Commands;
import herd.it.netns.HoldTimeline;
import herd.it.netns.Namespaces;
import herd.it.netns.NetnsCluster;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The floating-IP leader hook under a network partition, in network namespaces this test creates.
 * Three herd servers run in three namespaces bridged by a hub namespace; every server has
 * {@code bin/herd-floating-ip} as its leader and follower hook for one floating address on its
 * {@code eth0}. The test cuts the leader off and watches which namespaces hold the address (by
 * sampling them every few tens of milliseconds and by following `ip monitor`). It checks the
 * control plane's promise: a leader that lost its
 * majority drops the address within a bound computed from its configuration, which is before
 * anyone else can be elected, so two servers never hold the address at once for longer than that
 * bound; after the cut heals, exactly one server, the leader, holds it. When arping is installed
 * it also checks that the hub's ARP table follows the address to its new holder. Last, stopping
 * the servers cleanly leaves the address nowhere.
 *
 * <p>Needs root, iproute2 ({@code ip netns}, bridge and veth) and curl; skipped otherwise.
 */
@Timeout(180)
class FloatingIpIT {
    /** A private /24 that exists only inside the test's namespaces. */
    private static final String SUBNET = "10.213.7";
    private static final int FLOATING_HOST = 100;
    private static final long ELECTION_TIMEOUT_MIN_MILLIS = 1000;
    private static final long ELECTION_TIMEOUT_MAX_MILLIS = 2000;
    /**
     * Starting the hook (bash, then ip) and the scheduling delays of a busy 2-core machine: the
     * hook takes tens of milliseconds on an idle machine and was measured at 200-330 ms with a load
     * average of 11-20.
     */
    private static final Duration HOOK_RUN_MARGIN = Duration.ofMillis(500);
    /**
     * How often each namespace is looked at: a change is seen at most this late when the sampler
     * keeps pace (the address monitor running beside it usually reports it within milliseconds).
     */
    private static final Duration SAMPLE_PERIOD = Duration.ofMillis(50);
    /** How long one holder must be seen alone before the test calls the cluster settled. */
    private static final Duration SETTLED = Duration.ofSeconds(1);
    /** The longest the test waits for any step (start-up excluded). */
    private static final Duration STEP_LIMIT = Duration.ofSeconds(20);
    /** The hook announces the address with arping when it is installed; only then can the test check it. */
    private static final boolean ARPING_INSTALLED =
        Commands.run(List.of("sh", "-c", "command -v arping"), Duration.ofSeconds(10)).ok();
    private static final Path HERD_JAR = Path.of("..", "herd-cli", "target", "herd.jar").toAbsolutePath().normalize();
    private static final Path HOOK_SCRIPT = Path.of("..", "bin", "herd-floating-ip").toAbsolutePath().normalize();

    /**
     * How soon after the cut the old leader must have dropped the address: it reports "not leader"
     * at most {@code leaderAckBound + watchdogPeriod} after the last acknowledgement from a majority
     * (which came before the cut), then its follower hook has to run, and the sampler has to look.
     */
    record DropBound(Duration leaderAckBound, Duration watchdogPeriod, Duration hookRunMargin, Duration samplePeriod) {
        long totalMillis() {
            return leaderAckBound.plus(watchdogPeriod).plus(hookRunMargin).plus(samplePeriod).toMillis();
        }

        @Override
        public String toString() {
            return totalMillis() + " ms = leader ack bound " + leaderAckBound.toMillis() + " + watchdog period "
                + watchdogPeriod.toMillis() + " + hook run margin " + hookRunMargin.toMillis() + " + sample period "
                + samplePeriod.toMillis();
        }
    }

    @BeforeAll
    static void requireNetworkNamespaces() {
        NetnsCluster.requireOrSkip("floating-IP test");
    }

    @Test
    void aCutOffLeaderDropsTheFloatingAddressBeforeAnotherServerTakesIt(@TempDir Path work) throws Exception {
        try (Namespaces namespaces = new Namespaces()) {
            BridgedNetwork network = BridgedNetwork.create(namespaces, SUBNET, 3);
            String floating = network.spareAddressWithPrefix(FLOATING_HOST);
            String floatingIp = floating.substring(0, floating.indexOf('/'));
            Path hook = Files.copy(HOOK_SCRIPT, work.resolve("herd-floating-ip"), StandardCopyOption.COPY_ATTRIBUTES);
            NetnsCluster.Hooks hooks = new NetnsCluster.Hooks(
                hook + " leader " + floating + " " + BridgedNetwork.DEVICE,
                hook + " follower " + floating + " " + BridgedNetwork.DEVICE);
            List<String> initOptions = List.of("--election-timeout",
                ELECTION_TIMEOUT_MIN_MILLIS + "-" + ELECTION_TIMEOUT_MAX_MILLIS);
            long startNanos = System.nanoTime();
            try (NetnsCluster cluster = NetnsCluster.start(network, work, HERD_JAR, initOptions, server -> hooks);
                 AddressSampler sampler = new AddressSampler(network, floatingIp, SAMPLE_PERIOD)) {
                System.out.printf("floating IP: the 3 servers in their namespaces were up after %d ms%n",
                    Duration.ofNanos(System.nanoTime() - startNanos).toMillis());
                checkPartitionAndHeal(network, cluster, sampler, controlPlaneConfig(cluster.dataDir(1)));

                cluster.stop(); // SIGTERM: a leader that stops cleanly runs its follower hook on the way out
                for (int server = 1; server <= network.serverCount(); server++) {
                    assertThat(network.holds(server, floatingIp)).as("s%d holds %s after the cluster stopped", server,
                        floatingIp).isFalse();
                }
            }
        }
    }

    private static void checkPartitionAndHeal(BridgedNetwork network, NetnsCluster cluster, AddressSampler sampler,
                                              ControlPlaneConfig config) throws InterruptedException {
        DropBound dropBound = new DropBound(config.leaderAckBound(), config.watchdogPeriod(), HOOK_RUN_MARGIN,
            SAMPLE_PERIOD);
        // Liveness only: one election round after the followers' longest timeout, a split vote and a second round.
        long takeoverLimitMillis = 3 * config.electionTimeoutMax().toMillis() + HOOK_RUN_MARGIN.toMillis();

        int oldLeader = awaitSettledHolder(sampler, cluster, "the first leader to take the address");
        awaitAgreedLeader(network, cluster, oldLeader);
        if (ARPING_INSTALLED) {
            awaitHubArpEntry(network, cluster, sampler.address(), oldLeader);
        }

        // The cut happens somewhere inside the `ip` call, which a loaded machine can stretch: take its middle.
        long cutStartMillis = sampler.nowMillis();
        Instant cutStart = Instant.now();
        network.isolate(oldLeader);
        long cutAtMillis = (cutStartMillis + sampler.nowMillis()) / 2;
        System.out.printf("floating IP: cut off s%d at %s (wall clock, as in the servers' logs), took %d ms%n",
            oldLeader, cutStart, sampler.nowMillis() - cutStartMillis);
        awaitCondition(() -> sampler.timeline().firstSeenWithout(oldLeader, cutAtMillis).isPresent()
                && sampler.timeline().firstSeenHeldByOtherThan(oldLeader, cutAtMillis).isPresent(),
            "after cutting off s" + oldLeader + ", it drops the address and another server takes it", cluster);
        if (ARPING_INSTALLED) {
            int newLeader = sampler.timeline().firstSeenHeldByOtherThan(oldLeader, cutAtMillis).orElseThrow().server();
            awaitHubArpEntry(network, cluster, sampler.address(), newLeader);
            System.out.printf("floating IP: the hub's ARP entry for it moved to s%d's MAC %d ms after the cut%n",
                newLeader, sampler.nowMillis() - cutAtMillis);
        } else {
            System.out.println("floating IP: arping is not installed, so the gratuitous ARP is not checked");
        }
        Thread.sleep(SETTLED.toMillis()); // keep watching: neither side may take it (back) while cut off
        HoldTimeline partitioned = sampler.timeline();

        long healAtMillis = sampler.nowMillis();
        network.reconnect(oldLeader);
        int finalHolder = awaitSettledHolder(sampler, cluster, "one holder after the cut healed");
        awaitAgreedLeader(network, cluster, finalHolder);
        HoldTimeline whole = sampler.timeline();

        long dropMillis = partitioned.firstSeenWithout(oldLeader, cutAtMillis).orElseThrow() - cutAtMillis;
        HoldTimeline.Observation takeover = partitioned.firstSeenHeldByOtherThan(oldLeader, cutAtMillis).orElseThrow();
        long takeoverMillis = takeover.atMillis() - cutAtMillis;
        long overlapMillis = whole.longestPossibleOverlap().map(HoldTimeline.Overlap::lengthMillis).orElse(0L);
        System.out.printf("floating IP %s: cut off leader s%d; it dropped the address %d ms after the cut (bound %s); "
                + "s%d took it %d ms after the cut, %d ms after the drop; longest possible double hold %d ms (%s); "
                + "each namespace sampled every %.1f ms on average, changes also seen by ip monitor; "
                + "healed %d ms after the cut, then s%d held it alone%n",
            sampler.address(), oldLeader, dropMillis, dropBound, takeover.server(), takeoverMillis,
            takeoverMillis - dropMillis, overlapMillis, whole.longestPossibleOverlap().map(Object::toString).orElse("none"),
            whole.meanSamplePeriodMillis(), healAtMillis - cutAtMillis, finalHolder);

        cluster.logLines("LeaderHooks").forEach(line -> System.out.println("floating IP: " + line));
        String evidence = "\nchanges seen: " + whole.changes() + "\n" + cluster.diagnostics();
        assertThat(dropMillis).as("ms from the cut until s%d dropped the address (bound %s)%s", oldLeader, dropBound,
            evidence).isLessThanOrEqualTo(dropBound.totalMillis());
        assertThat(takeoverMillis).as("ms from the cut until a new leader took the address%s", evidence)
            .isLessThanOrEqualTo(takeoverLimitMillis);
        assertThat(overlapMillis).as("longest time two servers may both have held the address (bound %s)%s",
            dropBound, evidence).isLessThanOrEqualTo(dropBound.totalMillis());
        assertThat(partitioned.firstSeenHeldBy(oldLeader, partitioned.firstSeenWithout(oldLeader, cutAtMillis)
            .orElseThrow())).as("s%d took the address back while cut off%s", oldLeader, evidence).isEmpty();
        assertThat(whole.holdersAtEnd()).as("holders after the cut healed%s", evidence).containsExactly(finalHolder);
    }

    /**
     * The control-plane configuration the servers run with, built as the daemon builds it from the
     * founder's node.json, so the bound follows the configuration instead of copying its numbers.
     */
    private static ControlPlaneConfig controlPlaneConfig(Path founderData) throws IOException {
        NodeConfig node = new DataDir(founderData).readConfig();
        ControlPlaneConfig.Builder builder = ControlPlaneConfig.builder()
            .nodeName(node.name())
            .raftAddress(node.raftAddress())
            .dataDirectory(founderData)
            .groupId(UUID.fromString(node.groupId()))
            .initialPeers(node.initialRaftPeers());
        if (node.electionTimeoutMinMillis() > 0 && node.electionTimeoutMaxMillis() > node.electionTimeoutMinMillis()) {
            builder.electionTimeoutMin(Duration.ofMillis(node.electionTimeoutMinMillis()))
                .electionTimeoutMax(Duration.ofMillis(node.electionTimeoutMaxMillis()));
        }
        return builder.build();
    }

    /** Waits until one server, always the same, has been seen alone holding the address for {@link #SETTLED}. */
    private static int awaitSettledHolder(AddressSampler sampler, NetnsCluster cluster, String what)
        throws InterruptedException {
        awaitCondition(() -> sampler.timeline().lastSingleHolderStreakMillis() >= SETTLED.toMillis(), what, cluster);
        Set<Integer> holders = sampler.timeline().holdersAtEnd();
        assertThat(holders).as(what).hasSize(1);
        return holders.iterator().next();
    }

    /** Waits until every server names {@code holder} as the leader, i.e. the address is where the leader is. */
    private static void awaitAgreedLeader(BridgedNetwork network, NetnsCluster cluster, int holder)
        throws InterruptedException {
        String expected = NetnsCluster.name(holder);
        awaitCondition(() -> {
            for (int server = 1; server <= network.serverCount(); server++) {
                if (!cluster.leaderSeenBy(server).equals(Optional.of(expected))) {
                    return false;
                }
            }
            return true;
        }, "every server reports " + expected + ", which holds the address, as the leader", cluster);
    }

    /** Waits until the hub maps {@code address} to {@code holder}'s MAC: its gratuitous ARP arrived. */
    private static void awaitHubArpEntry(BridgedNetwork network, NetnsCluster cluster, String address, int holder)
        throws InterruptedException {
        String mac = network.macAddress(holder);
        awaitCondition(() -> network.hubNeighbour(address).equals(Optional.of(mac)),
            "the hub's ARP table maps " + address + " to " + mac + " of s" + holder + " (gratuitous ARP)", cluster);
    }

    private static void awaitCondition(BooleanSupplier condition, String what, NetnsCluster cluster)
        throws InterruptedException {
        long deadline = System.nanoTime() + STEP_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + STEP_LIMIT.toSeconds() + " s waiting until " + what + "\n" + cluster.diagnostics());
            }
            Thread.sleep(50);
        }
    }
}
