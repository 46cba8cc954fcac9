package herd.bench.controlplane;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Puts herd's and etcd's results side by side as Markdown; either may be missing (not measured). */
final class Report {

    private static final String NOT_MEASURED = "—";

    private Report() {
    }

    static String markdown(ResultsFile.Contents herd, ResultsFile.Contents etcd, List<String> machineLines,
                           String reproduceCommand, String measuredAt) {
        StringBuilder md = new StringBuilder();
        md.append("# Control plane: herd vs etcd\n\n");
        md.append("Measured ").append(measuredAt).append(" by `bench/control-plane/run`; to reproduce, from the repository root:\n\n");
        md.append("```\n").append(reproduceCommand).append("\n```\n\n");
        for (String missing : missingSystems(herd, etcd)) {
            md.append("**").append(missing).append(" was not measured in this run** (its columns show ")
              .append(NOT_MEASURED).append(").\n\n");
        }
        md.append("## Machine\n\n");
        machineLines.forEach(line -> md.append("- ").append(line).append('\n'));
        md.append('\n');
        appendMethod(md, herd, etcd);
        appendWorkloadTable(md, herd, etcd);
        appendFailoverTable(md, herd, etcd);
        return md.toString();
    }

    private static List<String> missingSystems(ResultsFile.Contents herd, ResultsFile.Contents etcd) {
        List<String> missing = new ArrayList<>();
        if (herd == null) {
            missing.add("herd");
        }
        if (etcd == null) {
            missing.add("etcd");
        }
        return missing;
    }

    private static String setting(ResultsFile.Contents herd, ResultsFile.Contents etcd, String name) {
        for (ResultsFile.Contents contents : new ResultsFile.Contents[] {etcd, herd}) {
            if (contents != null && contents.settings().containsKey(name)) {
                return contents.settings().get(name);
            }
        }
        return "?";
    }

    private static void appendMethod(StringBuilder md, ResultsFile.Contents herd, ResultsFile.Contents etcd) {
        String warmup = setting(herd, etcd, "warmupSeconds");
        String measure = setting(herd, etcd, "measureSeconds");
        String serverWarmup = setting(herd, etcd, "serverWarmupSeconds");
        String interval = setting(herd, etcd, "failoverAttemptIntervalMillis");
        String attemptTimeout = setting(herd, etcd, "failoverAttemptTimeoutMillis");
        String inFlight = setting(herd, etcd, "failoverMaxInFlightPerSurvivor");
        md.append("## Method\n\n");
        md.append("- Each system runs as 3 members on 127.0.0.1 with its default durability (fsync before a write\n")
          .append("  is acknowledged), one system at a time, driven by the same JVM load generator\n")
          .append("  (`bench/control-plane/loadgen`): jetcd for etcd, Apache HttpClient (blocking, HTTP/1.1 keep-alive) for herd.\n");
        md.append("- Closed loop: each client sends its next request when the previous one is acknowledged. Clients\n")
          .append("  are spread round-robin over the 3 members (a member that is not the leader forwards to it).\n");
        md.append("- First ").append(serverWarmup).append(" s of unrecorded puts from 16 clients (the JVMs of herd and of the load generator compile their hot paths);")
          .append(" then each workload: ").append(warmup).append(" s warm-up, ").append(measure).append(" s measured.\n")
          .append("  Puts write new 8-byte sequential keys with a 256-byte value; gets are linearizable reads of\n")
          .append("  100 preloaded 8-byte keys holding 256-byte values. p50/p99 are per request, in milliseconds.\n");
        md.append("- Failover: find the leader, `kill -9` it, then start a write on every survivor every ")
          .append(interval).append(" ms\n  without waiting for earlier ones (each abandoned after ").append(attemptTimeout)
          .append(" ms, at most ").append(inFlight).append(" outstanding per survivor);\n")
          .append("  the time is from the SIGKILL to the first acknowledged write. The killed member is restarted,\n")
          .append("  and every member must serve a linearizable read again, before the next trial.\n\n");
    }

    private static void appendWorkloadTable(StringBuilder md, ResultsFile.Contents herd, ResultsFile.Contents etcd) {
        md.append("## Throughput and latency\n\n");
        md.append("| workload | herd ops/s | herd p50 ms | herd p99 ms | etcd ops/s | etcd p50 ms | etcd p99 ms | herd/etcd throughput |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        Set<String> ids = new LinkedHashSet<>(workloadsOf(etcd).keySet());
        ids.addAll(workloadsOf(herd).keySet());
        List<String> failureNotes = new ArrayList<>();
        for (String id : ids) {
            ResultsFile.WorkloadRow h = workloadsOf(herd).get(id);
            ResultsFile.WorkloadRow e = workloadsOf(etcd).get(id);
            md.append("| ").append(label(id)).append(" | ")
              .append(cells(h)).append(" | ").append(cells(e)).append(" | ")
              .append(h != null && e != null && e.opsPerSecond() > 0
                      ? String.format(Locale.ROOT, "%.2f", h.opsPerSecond() / e.opsPerSecond()) : NOT_MEASURED)
              .append(" |\n");
            noteFailures(failureNotes, "herd", h);
            noteFailures(failureNotes, "etcd", e);
        }
        md.append('\n');
        if (!failureNotes.isEmpty()) {
            md.append("Failed operations (not counted above):\n\n");
            failureNotes.forEach(note -> md.append("- ").append(note).append('\n'));
            md.append('\n');
        }
    }

    private static void appendFailoverTable(StringBuilder md, ResultsFile.Contents herd, ResultsFile.Contents etcd) {
        md.append("## Leader failover (kill -9 the leader → first acknowledged write through a survivor)\n\n");
        List<FailoverBench.TrialResult> h = herd == null ? List.of() : herd.failovers();
        List<FailoverBench.TrialResult> e = etcd == null ? List.of() : etcd.failovers();
        md.append("| trial | herd ms | etcd ms |\n|---:|---:|---:|\n");
        for (int i = 0; i < Math.max(h.size(), e.size()); i++) {
            md.append("| ").append(i + 1).append(" | ").append(trialCell(h, i)).append(" | ").append(trialCell(e, i)).append(" |\n");
        }
        md.append("| **median** | **").append(medianCell(h)).append("** | **").append(medianCell(e)).append("** |\n\n");
    }

    private static Map<String, ResultsFile.WorkloadRow> workloadsOf(ResultsFile.Contents contents) {
        return contents == null ? Map.of() : contents.workloadsById();
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static String medianCell(List<FailoverBench.TrialResult> trials) {
        return trials.isEmpty() ? NOT_MEASURED
                : String.format(Locale.ROOT, "%.0f", median(trials.stream().map(FailoverBench.TrialResult::millisToFirstAck).toList()));
    }

    private static String trialCell(List<FailoverBench.TrialResult> trials, int index) {
        if (index >= trials.size()) {
            return NOT_MEASURED;
        }
        FailoverBench.TrialResult t = trials.get(index);
        return String.format(Locale.ROOT, "%.0f (%s → %s)", t.millisToFirstAck(), t.killedLeader(), t.newLeader());
    }

    private static String cells(ResultsFile.WorkloadRow row) {
        if (row == null) {
            return NOT_MEASURED + " | " + NOT_MEASURED + " | " + NOT_MEASURED;
        }
        return String.format(Locale.ROOT, "%.0f | %.2f | %.2f", row.opsPerSecond(), row.p50Millis(), row.p99Millis());
    }

    private static void noteFailures(List<String> notes, String system, ResultsFile.WorkloadRow row) {
        if (row != null && row.failed() > 0) {
            notes.add(system + " " + label(row.id()) + ": " + row.failed() + " failed, first: " + row.firstFailure());
        }
    }

    private static String label(String id) {
        return Workload.parseList(id).get(0).label();
    }
}
