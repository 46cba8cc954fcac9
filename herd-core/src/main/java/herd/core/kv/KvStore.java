package herd.core.kv;

import herd.core.ErrorCode;
import herd.core.Limits;
import herd.core.Rejection;
import herd.core.command.Outcome;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The replicated key-value space with etcd's semantics: a single revision counter that grows by one
 * per change, per-key create/mod revisions and versions, compare-and-set on a key's modRevision,
 * and a bounded history of changes that watchers resume from.
 *
 * <p>Deterministic and single-threaded: the caller serialises access.
 */
public final class KvStore {
    private final NavigableMap<String, KeyValue> keys = new TreeMap<>();
    private final Deque<KvEvent> history = new ArrayDeque<>();
    private long historyBytes;
    private long revision;
    /** The newest revision no longer in {@link #history}; watchers must start after it. */
    private long compactedRevision;

    public long revision() {
        return revision;
    }

    public long compactedRevision() {
        return compactedRevision;
    }

    public int size() {
        return keys.size();
    }

    public Outcome put(String key, byte[] value, Long expectRevision) {
        Optional<Rejection> invalid = KeyRules.checkKey(key)
            .or(() -> KeyRules.checkValue(value))
            .or(() -> KeyRules.checkExpectedRevision(expectRevision));
        if (invalid.isPresent()) {
            return new Outcome.Rejected(invalid.get());
        }
        KeyValue previous = keys.get(key);
        if (!matches(previous, expectRevision)) {
            return new Outcome.RevisionMismatch(revision, key, expectRevision, previous);
        }
        long newRevision = revision + 1;
        KeyValue written = previous == null
            ? new KeyValue(key, value.clone(), newRevision, newRevision, 1)
            : new KeyValue(key, value.clone(), previous.createRevision(), newRevision, previous.version() + 1);
        keys.put(key, written);
        revision = newRevision;
        record(new KvEvent(KvEvent.Type.PUT, newRevision, written));
        return new Outcome.KvWritten(newRevision, key, written.createRevision(), written.version());
    }

    public Outcome delete(String key, Long expectRevision) {
        Optional<Rejection> invalid = KeyRules.checkKey(key).or(() -> KeyRules.checkExpectedRevision(expectRevision));
        if (invalid.isPresent()) {
            return new Outcome.Rejected(invalid.get());
        }
        KeyValue previous = keys.get(key);
        if (!matches(previous, expectRevision)) {
            return new Outcome.RevisionMismatch(revision, key, expectRevision, previous);
        }
        if (previous == null) {
            return new Outcome.KvDeleted(revision, 0);
        }
        long newRevision = revision + 1;
        keys.remove(key);
        revision = newRevision;
        record(new KvEvent(KvEvent.Type.DELETE, newRevision,
            new KeyValue(key, new byte[0], previous.createRevision(), newRevision, 0)));
        return new Outcome.KvDeleted(newRevision, 1);
    }

    /**
     * Loads keys from a backup as they were, and moves the revision up to the backup's. No history
     * is recorded: watchers start after the backup's revision.
     */
    public void load(List<KeyValue> restoredKeys, long backupRevision) {
        for (KeyValue restored : restoredKeys) {
            keys.put(restored.key(), restored);
        }
        if (backupRevision > revision) {
            revision = backupRevision;
            history.clear();
            historyBytes = 0;
            compactedRevision = backupRevision;
        }
    }

    public Optional<KeyValue> get(String key) {
        return Optional.ofNullable(keys.get(key));
    }

    /** Keys starting with {@code prefix} in key order, at most {@code limit} of them. */
    public List<KeyValue> list(String prefix, int limit) {
        List<KeyValue> found = new ArrayList<>();
        for (KeyValue kv : keys.tailMap(prefix, true).values()) {
            if (!kv.key().startsWith(prefix) || found.size() == limit) {
                break;
            }
            found.add(kv);
        }
        return found;
    }

    /** True when more than {@code limit} keys start with {@code prefix}. */
    public boolean hasMoreThan(String prefix, int limit) {
        int seen = 0;
        for (String key : keys.tailMap(prefix, true).keySet()) {
            if (!key.startsWith(prefix)) {
                return false;
            }
            if (++seen > limit) {
                return true;
            }
        }
        return false;
    }

    /**
     * Changes at or after {@code fromRevision} whose key passes {@code filter}, oldest first, at most
     * {@link Limits#MAX_WATCH_BATCH}. Refused when part of that range was compacted away.
     */
    public WatchBatch changesSince(long fromRevision, WatchFilter filter) {
        if (fromRevision <= compactedRevision) {
            return WatchBatch.refused(new Rejection(ErrorCode.REVISION_COMPACTED, "revision " + fromRevision
                + " is compacted; the oldest revision still available is " + (compactedRevision + 1)
                + ": read the current state with a list, then watch from its revision + 1"), revision);
        }
        List<KvEvent> events = new ArrayList<>();
        for (KvEvent event : history) {
            if (event.revision() >= fromRevision && filter.matches(event.kv().key())) {
                events.add(event);
                if (events.size() == Limits.MAX_WATCH_BATCH) {
                    break;
                }
            }
        }
        return WatchBatch.of(events, revision);
    }

    /** Every key, in key order; for snapshots. */
    public List<KeyValue> allKeys() {
        return List.copyOf(keys.values());
    }

    /** The kept history, oldest first; for snapshots. */
    public List<KvEvent> history() {
        return List.copyOf(history);
    }

    /** Rebuilds a store from a snapshot's parts. */
    public static KvStore restore(long revision, long compactedRevision, List<KeyValue> keys, List<KvEvent> history) {
        KvStore store = new KvStore();
        store.revision = revision;
        store.compactedRevision = compactedRevision;
        for (KeyValue kv : keys) {
            store.keys.put(kv.key(), kv);
        }
        for (KvEvent event : history) {
            store.history.addLast(event);
            store.historyBytes += weight(event);
        }
        return store;
    }

    private static boolean matches(KeyValue current, Long expectRevision) {
        if (expectRevision == null) {
            return true;
        }
        long currentRevision = current == null ? 0 : current.modRevision();
        return currentRevision == expectRevision;
    }

    private void record(KvEvent event) {
        history.addLast(event);
        historyBytes += weight(event);
        while (history.size() > Limits.WATCH_HISTORY_MAX_EVENTS || historyBytes > Limits.WATCH_HISTORY_MAX_BYTES) {
            KvEvent evicted = history.removeFirst();
            historyBytes -= weight(evicted);
            compactedRevision = evicted.revision();
        }
    }

    private static long weight(KvEvent event) {
        return event.kv().value().length + event.kv().key().length() + 64L;
    }
}
