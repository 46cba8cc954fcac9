package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import herd.it.netns.BridgedNetwork;
import herd.it.netns.Namespaces;
import herd.it.netns.NetnsCluster;
import herd.lincheck.CheckResult;
import herd.lincheck.History;
import herd.lincheck.LinearizabilityChecker;
import herd.lincheck.Outcome;
import herd.lincheck.workload.HistoryFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent clients do put/get/cas/delete on a few keys of a 3-server cluster while the leader is
 * killed with SIGKILL (and restarted), and then the new leader is cut off from the others (its port
 * taken off the bridge of the test's namespaces) and reconnected. The recorded history must be
 * linearizable: zero violations. Operations that timed out count as possibly applied.
 *
 * <p>The servers run in their own network namespaces and the clients in the hub namespace, as a
 * separate process ({@code herd.it.lin.WorkloadMain}), which writes the history for this test to
 * check. A failing history is copied to {@code target/} for replay. Needs root and iproute2.
 */
@Timeout(300)
class LinearizabilityIT {
    static final String SUBNET = "10.213.8";
    static final Duration WORKLOAD = Duration.ofSeconds(50);
    static final int CLIENTS = 6;
    static final List<String> KEYS = List.of("x", "y", "z");
    static final Path HERD_JAR = Path.of("..", "herd-cli", "target", "herd.jar").toAbsolutePath().normalize();
    static final NetnsCluster.Hooks NO_HOOKS = new NetnsCluster.Hooks("true", "true");

    @BeforeAll
    static void requireNetworkNamespaces() {
        NetnsCluster.requireOrSkip("linearizability test");
    }

    @Test
    void theHistoryStaysLinearizableThroughALeaderKillAndACutOffLeader(@TempDir Path work) throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        Path historyFile = work.resolve("history.txt");
        try (Namespaces namespaces = new Namespaces()) {
            BridgedNetwork network = BridgedNetwork.create(namespaces, SUBNET, 3);
            try (NetnsCluster cluster = NetnsCluster.start(network, work, HERD_JAR, List.of(), server -> NO_HOOKS)) {
                Process workload = startWorkload(network, cluster, work, seed, historyFile);
                List<String> faults = injectFaults(network, cluster);
                if (!workload.waitFor(WORKLOAD.toSeconds() + 90, TimeUnit.SECONDS)) {
                    workload.destroyForcibly();
                    throw new AssertionError("the workload did not finish; its output:\n" + Files.readString(work.resolve("workload.log")));
                }
                String workloadLog = Files.readString(work.resolve("workload.log"));
                assertThat(workload.exitValue()).as("workload exit code; output:\n%s", workloadLog).isZero();
                System.out.printf("linearizability (seed %d): faults %s; %s", seed, faults, workloadLog);
            }
        }

        History history = HistoryFiles.read(historyFile);
        CheckResult result = new LinearizabilityChecker().check(history);
        long answered = history.operations().stream()
            .filter(op -> !(op.outcome() instanceof Outcome.Indeterminate) && !(op.outcome() instanceof Outcome.Rejected))
            .count();
        System.out.println("linearizability: " + result.report());
        if (!result.isLinearizable()) {
            Path kept = Files.copy(historyFile, Path.of("target", "linearizability-history-" + seed + ".txt").toAbsolutePath(),
                StandardCopyOption.REPLACE_EXISTING);
            throw new AssertionError(result.report() + "\n(history kept in " + kept + ")");
        }
        assertThat(answered).as("operations that got a definite answer").isGreaterThan(100);
    }

    private static Process startWorkload(BridgedNetwork network, NetnsCluster cluster, Path work, long seed, Path historyFile)
        throws Exception {
        String token = Files.readString(cluster.dataDir(1).resolve("admin.token")).strip();
        List<String> endpoints = new ArrayList<>();
        for (int server = 1; server <= network.serverCount(); server++) {
            endpoints.add(cluster.apiAddress(server));
        }
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
            "-cp", System.getProperty("java.class.path"), "herd.it.lin.WorkloadMain",
            String.join(",", endpoints), token, Long.toString(WORKLOAD.toSeconds()), Integer.toString(CLIENTS),
            String.join(",", KEYS), Long.toString(seed), historyFile.toString());
        return new ProcessBuilder(Namespaces.inside(network.hubNamespace(), command))
            .redirectErrorStream(true).redirectOutput(work.resolve("workload.log").toFile()).start();
    }

    /** Kill -9 the leader, restart it, then cut off the (new) leader and reconnect it; returns what was done. */
    private static List<String> injectFaults(BridgedNetwork network, NetnsCluster cluster) throws Exception {
        List<String> done = new ArrayList<>();
        Thread.sleep(8_000);
        int killed = leader(network, cluster);
        cluster.kill(killed);
        done.add("killed s" + killed);
        Thread.sleep(7_000);
        cluster.restart(killed, NO_HOOKS);
        done.add("restarted s" + killed);
        Thread.sleep(5_000);
        int cut = leader(network, cluster);
        network.isolate(cut);
        done.add("cut off s" + cut);
        Thread.sleep(8_000);
        network.reconnect(cut);
        done.add("reconnected s" + cut);
        return done;
    }

    /** The server that the others agree leads; waits for one. */
    private static int leader(BridgedNetwork network, NetnsCluster cluster) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (int server = 1; server <= network.serverCount(); server++) {
                Optional<String> leader = cluster.leaderSeenBy(server);
                if (leader.isPresent()) {
                    return Integer.parseInt(leader.get().substring(1));
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no leader within 60 s:\n" + cluster.diagnostics());
    }
}
