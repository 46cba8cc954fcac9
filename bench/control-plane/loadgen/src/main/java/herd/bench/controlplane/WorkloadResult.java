package herd.bench.controlplane;

/** What one workload measured; latencies in milliseconds, over the measurement window only. */
record WorkloadResult(
        Workload workload,
        double opsPerSecond,
        double p50Millis,
        double p99Millis,
        long measuredOps,
        long failedOps,
        String firstFailure) {
}
