package herd.lincheck.workload;

import herd.lincheck.CheckResult;
import herd.lincheck.History;
import herd.lincheck.LinearizabilityChecker;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Checks a saved history again: {@code java -cp herd-lincheck.jar herd.lincheck.workload.ReplayHistory
 * FILE [MAX_STEPS_PER_KEY]}. Prints the report; exits 0 if linearizable, 1 on a violation, 2 if
 * undecided, 64 on bad usage.
 */
public final class ReplayHistory {

    private ReplayHistory() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: ReplayHistory HISTORY_FILE [MAX_STEPS_PER_KEY]"
                + "  (a file written by HistoryFiles.write / HistoryFormat.format)");
            System.exit(64);
        }
        History history;
        LinearizabilityChecker checker;
        try {
            long maxSteps = args.length == 2 ? parseSteps(args[1]) : LinearizabilityChecker.DEFAULT_MAX_STEPS_PER_KEY;
            checker = new LinearizabilityChecker(maxSteps);
            history = HistoryFiles.read(Path.of(args[0]));
        } catch (IllegalArgumentException e) {
            System.err.println("ReplayHistory: " + e.getMessage());
            System.exit(64);
            return;
        }
        long startNanos = System.nanoTime();
        CheckResult result = checker.check(history);
        System.out.println(result.report());
        System.out.printf("checked %d operations in %.1f ms%n", history.size(), (System.nanoTime() - startNanos) / 1e6);
        System.exit(switch (result) {
            case CheckResult.Linearizable ok -> 0;
            case CheckResult.Violation violation -> 1;
            case CheckResult.Unknown unknown -> 2;
        });
    }

    private static long parseSteps(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("MAX_STEPS_PER_KEY must be a whole number of search steps, got '"
                + text + "'");
        }
    }
}
