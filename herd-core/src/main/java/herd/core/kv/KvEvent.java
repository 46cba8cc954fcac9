package herd.core.kv;

/**
 * A change to one key, as watchers see it. For a deletion, {@code kv} holds the key with an empty
 * value and {@code modRevision} equal to the deleting revision.
 */
public record KvEvent(Type type, long revision, KeyValue kv) {
    public enum Type { PUT, DELETE }
}
