package herd.bench.controlplane;

import java.util.concurrent.CompletableFuture;

/**
 * A connection to one member of the cluster under test, as the benchmark sees it. Implementations are
 * thread-safe: the workload gives one to each client thread, failover shares them.
 */
interface KvClient {

    /** Writes the key and returns once the cluster acknowledged (committed) the write; throws otherwise. */
    void put(String key, byte[] value) throws Exception;

    /** A linearizable read: the value, or null when the key does not exist. */
    byte[] get(String key) throws Exception;

    /** Starts a write; completes normally once acknowledged, exceptionally when refused or failed. */
    CompletableFuture<?> putAsync(String key, byte[] value);
}
