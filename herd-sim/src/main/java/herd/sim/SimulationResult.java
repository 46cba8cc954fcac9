package herd.sim;

/**
 * How one run ended.
 *
 * @param violation     the broken rule, or null when the run passed
 * @param failedAtEvent number of the event after which the rule was found broken (0 when passed)
 * @param events        events executed
 * @param commits       log entries committed
 * @param traceTail     the last lines of the trace
 * @param traceDigest   SHA-256 of the whole trace: equal digests mean identical runs
 * @param fullTrace     the whole trace, when the options asked to keep it, else null
 */
public record SimulationResult(Scenario scenario, String violation, long failedAtEvent, long failedAtMillis, long events,
                               long commits, long fences, String traceTail, String traceDigest, String fullTrace) {

    public long seed() {
        return scenario.seed();
    }

    public boolean passed() {
        return violation == null;
    }

    /** One line for a summary. */
    public String summary() {
        return "seed " + seed() + " " + scenario.template() + (scenario.fencing() ? " fencing" : " leases") + " "
            + scenario.nodes().size() + " nodes " + scenario.faults().size() + " faults: "
            + (passed() ? "ok" : "FAILED at event #" + failedAtEvent + " (t=" + failedAtMillis + " ms): " + violation)
            + " [" + events + " events, " + commits + " commits, " + fences + " fence attempts]";
    }

    /** Everything needed to understand and replay a failure. */
    public String report() {
        if (passed()) {
            return summary();
        }
        return "seed " + seed() + " FAILED at event #" + failedAtEvent + " (t=" + failedAtMillis + " ms): " + violation + "\n"
            + "replay: Simulation.run(" + seed() + "L), or bench/sim/run --replay " + seed() + "\n"
            + "scenario: " + scenario.template() + ", " + (scenario.fencing() ? "fencing" : "leases only") + ", nodes "
            + scenario.nodes() + ", agents " + scenario.agents() + ", quiet from " + scenario.quietFromMillis() + " ms\n"
            + "faults: " + scenario.faults() + "\n"
            + "last events:\n" + traceTail;
    }
}
