package herd.it.lin;

import herd.lincheck.workload.HistoryFiles;
import herd.lincheck.workload.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Runs the lincheck workload against herd in its own process, so it can run inside the namespace
 * where the servers are reachable, and writes the history to a file for the test to check.
 *
 * <p>Arguments: ENDPOINTS(comma-separated) TOKEN SECONDS CLIENTS KEYS(comma-separated) SEED HISTORY_FILE
 */
public final class WorkloadMain {
    private WorkloadMain() {}

    public static void main(String[] args) throws Exception {
        List<String> endpoints = Arrays.asList(args[0].split(","));
        String token = args[1];
        Duration duration = Duration.ofSeconds(Long.parseLong(args[2]));
        int clients = Integer.parseInt(args[3]);
        List<String> keys = Arrays.asList(args[4].split(","));
        long seed = Long.parseLong(args[5]);
        Path historyFile = Path.of(args[6]);
        Workload.Result result = Workload.run(Workload.Config.of(clients, keys, duration, seed, "lin-" + seed),
            index -> new HerdKvClient(rotated(endpoints, index), token));
        HistoryFiles.write(historyFile, result.history());
        System.out.println(result.summary());
        if (!result.clientFailures().isEmpty()) {
            result.clientFailures().forEach(Throwable::printStackTrace);
            System.exit(1);
        }
    }

    /** Spreads clients over the nodes: client i prefers node i mod n. */
    static List<String> rotated(List<String> endpoints, int index) {
        List<String> order = new ArrayList<>(endpoints);
        Collections.rotate(order, -(index % endpoints.size()));
        return order;
    }
}
