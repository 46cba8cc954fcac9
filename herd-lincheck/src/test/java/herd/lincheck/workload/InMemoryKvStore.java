package herd.lincheck.workload;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A correct, linearizable stand-in for the store: one lock, etcd-style revisions (one counter for
 * the whole store; a key's modRevision is the revision of its last write). Subclasses break it on
 * purpose to show the checker catches the breakage.
 */
class InMemoryKvStore {

    record Entry(String value, long modRevision) {}

    protected final Map<String, Entry> entries = new HashMap<>();
    protected long revision;

    synchronized KvClient.Written put(String key, String value) {
        entries.put(key, new Entry(value, ++revision));
        return new KvClient.Written(revision);
    }

    synchronized KvClient.Read get(String key) {
        return read(entries, key);
    }

    synchronized KvClient.CasResult cas(String key, long expectedModRevision, String value) {
        Entry current = entries.get(key);
        long currentModRevision = current == null ? 0 : current.modRevision();
        if (currentModRevision != expectedModRevision) {
            return new KvClient.CasResult(false, revision);
        }
        entries.put(key, new Entry(value, ++revision));
        return new KvClient.CasResult(true, revision);
    }

    synchronized KvClient.Written delete(String key) {
        if (entries.remove(key) != null) {
            revision++;
        }
        return new KvClient.Written(revision);
    }

    static KvClient.Read read(Map<String, Entry> entries, String key) {
        Entry entry = entries.get(key);
        return entry == null ? new KvClient.Read(Optional.empty(), 0)
            : new KvClient.Read(Optional.of(entry.value()), entry.modRevision());
    }

    /**
     * A client that, like a network, takes a little time on the way to the store and back (up to
     * 100 µs each way), so that clients' operations overlap and CASes race.
     */
    KvClient client() {
        InMemoryKvStore store = this;
        return new KvClient() {
            @Override
            public Written put(String key, String value) {
                return overNetwork(() -> store.put(key, value));
            }

            @Override
            public Read get(String key) {
                return overNetwork(() -> store.get(key));
            }

            @Override
            public CasResult cas(String key, long expectedModRevision, String value) {
                return overNetwork(() -> store.cas(key, expectedModRevision, value));
            }

            @Override
            public Written delete(String key) {
                return overNetwork(() -> store.delete(key));
            }
        };
    }

    private static <T> T overNetwork(Supplier<T> call) {
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(100_000));
        T result = call.get();
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(100_000));
        return result;
    }

    /** Serves some reads from a copy that is refreshed only every few writes: stale reads. */
    static final class LaggingReplica extends InMemoryKvStore {
        private Map<String, Entry> replica = new HashMap<>();
        private long reads;
        private long writesSinceRefresh;

        @Override
        synchronized KvClient.Written put(String key, String value) {
            refreshEveryFewWrites();
            return super.put(key, value);
        }

        @Override
        synchronized KvClient.Read get(String key) {
            return ++reads % 3 == 0 ? read(replica, key) : super.get(key);
        }

        private void refreshEveryFewWrites() {
            if (++writesSinceRefresh >= 5) {
                replica = new HashMap<>(entries);
                writesSinceRefresh = 0;
            }
        }
    }

    /** Acknowledges every seventh put without storing it. */
    static final class LosesWrites extends InMemoryKvStore {
        private long puts;

        @Override
        synchronized KvClient.Written put(String key, String value) {
            return ++puts % 7 == 0 ? new KvClient.Written(revision) : super.put(key, value);
        }
    }
}
