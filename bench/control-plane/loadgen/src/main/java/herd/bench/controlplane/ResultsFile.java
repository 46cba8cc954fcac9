package herd.bench.controlplane;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One system's results as tab-separated lines, appended by the workload and failover commands and read
 * back by the report. Lines: {@code workload ID OPS_PER_S P50_MS P99_MS OPS FAILED FIRST_FAILURE},
 * {@code failover TRIAL KILLED_LEADER MILLIS NEW_LEADER}, {@code setting NAME VALUE}.
 */
final class ResultsFile {

    record WorkloadRow(String id, double opsPerSecond, double p50Millis, double p99Millis, long ops, long failed,
                       String firstFailure) {
    }

    record Contents(Map<String, WorkloadRow> workloadsById, List<FailoverBench.TrialResult> failovers,
                    Map<String, String> settings) {
    }

    private ResultsFile() {
    }

    static void appendSetting(Path file, String name, String value) throws IOException {
        append(file, String.join("\t", "setting", name, value));
    }

    static void appendWorkload(Path file, WorkloadResult r) throws IOException {
        append(file, String.join("\t", "workload", r.workload().id(), format(r.opsPerSecond()), format(r.p50Millis()),
                format(r.p99Millis()), Long.toString(r.measuredOps()), Long.toString(r.failedOps()),
                r.firstFailure() == null ? "-" : oneLine(r.firstFailure())));
    }

    static void appendFailover(Path file, FailoverBench.TrialResult r) throws IOException {
        append(file, String.join("\t", "failover", Integer.toString(r.trial()), r.killedLeader(),
                format(r.millisToFirstAck()), r.newLeader()));
    }

    static Contents read(Path file) throws IOException {
        Map<String, WorkloadRow> workloads = new LinkedHashMap<>();
        List<FailoverBench.TrialResult> failovers = new ArrayList<>();
        Map<String, String> settings = new LinkedHashMap<>();
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            String[] f = line.split("\t", -1);
            try {
                switch (f[0]) {
                    case "workload" -> workloads.put(f[1], new WorkloadRow(f[1], Double.parseDouble(f[2]),
                            Double.parseDouble(f[3]), Double.parseDouble(f[4]), Long.parseLong(f[5]),
                            Long.parseLong(f[6]), f[7]));
                    case "failover" -> failovers.add(new FailoverBench.TrialResult(Integer.parseInt(f[1]), f[2],
                            Double.parseDouble(f[3]), f[4]));
                    case "setting" -> settings.put(f[1], f[2]);
                    default -> throw new IllegalArgumentException("unknown record '" + f[0] + "'");
                }
            } catch (RuntimeException e) {
                throw new IOException(file + " line " + lineNumber + " is not a results line (" + e.getMessage()
                        + "): " + line, e);
            }
        }
        return new Contents(workloads, failovers, settings);
    }

    private static void append(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static String format(double number) {
        return String.format(Locale.ROOT, "%.3f", number);
    }

    private static String oneLine(String text) {
        return text.replace('\t', ' ').replace('\n', ' ');
    }
}
