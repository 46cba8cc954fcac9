package herd.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs many seeds from the command line: {@code SimMain [SEEDS] [FIRST_SEED]} prints every failure
 * with its seed and trace and a summary, and exits 1 if any seed failed; {@code SimMain --replay SEED}
 * prints one run's whole trace.
 */
public final class SimMain {
    static final long DEFAULT_SEEDS = 1_000;
    /** A run is printed in full only for the first failures; the rest get one line each. */
    static final int FULL_REPORTS_MAX = 5;

    private SimMain() {}

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException e) {
            System.err.println("sim: " + e.getMessage());
            System.err.println("usage: bench/sim/run [SEEDS] [FIRST_SEED]   or   bench/sim/run --replay SEED");
            System.exit(2);
        }
    }

    static int run(String[] arguments) {
        Simulation.Options options = Simulation.Options.defaults();
        String[] args = arguments;
        if (args.length >= 1 && args[0].equals("--replay")) {
            if (args.length != 2) {
                throw new IllegalArgumentException("--replay takes one seed");
            }
            SimulationResult result = Simulation.run(number(args[1], "SEED"), options.keepingFullTrace());
            System.out.print(result.fullTrace());
            System.out.println(result.report());
            System.out.println("trace digest " + result.traceDigest());
            return result.passed() ? 0 : 1;
        }
        if (args.length > 2) {
            throw new IllegalArgumentException("at most two arguments, got " + args.length);
        }
        long seeds = args.length >= 1 ? number(args[0], "SEEDS") : DEFAULT_SEEDS;
        long first = args.length >= 2 ? number(args[1], "FIRST_SEED") : 1;
        if (seeds <= 0) {
            throw new IllegalArgumentException("SEEDS must be positive, got " + seeds);
        }
        return runMany(seeds, first, options);
    }

    private static int runMany(long seeds, long first, Simulation.Options options) {
        long startedNanos = System.nanoTime();
        List<SimulationResult> failures = new ArrayList<>();
        long events = 0;
        for (long seed = first; seed < first + seeds; seed++) {
            SimulationResult result = Simulation.run(seed, options);
            events += result.events();
            if (!result.passed()) {
                failures.add(result);
                System.out.println(result.summary());
                if (failures.size() <= FULL_REPORTS_MAX) {
                    System.out.println(result.report() + "\n");
                }
            }
        }
        long seconds = Math.max(1, (System.nanoTime() - startedNanos) / 1_000_000_000);
        System.out.println("summary: " + seeds + " seeds from " + first + ": " + (seeds - failures.size()) + " passed, "
            + failures.size() + " failed; " + events + " events in " + seconds + " s");
        if (!failures.isEmpty()) {
            System.out.println("failed seeds: " + failures.stream().map(r -> Long.toString(r.seed())).toList());
        }
        return failures.isEmpty() ? 0 : 1;
    }

    private static long number(String text, String name) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + text + "'");
        }
    }
}
