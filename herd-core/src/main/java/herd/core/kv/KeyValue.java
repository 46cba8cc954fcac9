package herd.core.kv;

import java.util.Arrays;
import java.util.Objects;

/**
 * One key and its value, with etcd's revision bookkeeping.
 *
 * @param createRevision the cluster revision that created the key (since its last deletion)
 * @param modRevision the cluster revision of the key's last change
 * @param version how many times the key was written since it was created (1 after creation)
 */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision, long version) {

    public KeyValue {
        Objects.requireNonNull(key);
        Objects.requireNonNull(value);
    }

    /** The value's bytes are never changed after construction; callers must not change them either. */
    @Override
    public byte[] value() {
        return value;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyValue that
            && key.equals(that.key)
            && Arrays.equals(value, that.value)
            && createRevision == that.createRevision
            && modRevision == that.modRevision
            && version == that.version;
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, Arrays.hashCode(value), createRevision, modRevision, version);
    }

    @Override
    public String toString() {
        return "KeyValue[key=" + key + ", value=" + value.length + " bytes, createRevision=" + createRevision
            + ", modRevision=" + modRevision + ", version=" + version + "]";
    }
}
