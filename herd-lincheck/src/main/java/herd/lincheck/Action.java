package herd.lincheck;

import java.util.Objects;
import java.util.Optional;

/**
 * What a client asked of one key. Values are plain strings; "absent" (the key does not exist) is
 * {@link Optional#empty()}.
 */
public sealed interface Action {

    /** Set the key to {@code value}. */
    record Put(String value) implements Action {
        public Put {
            Objects.requireNonNull(value, "put value");
        }
    }

    /** Read the key. The value read is in the outcome ({@link Outcome.Read}). */
    record Get() implements Action {}

    /** Remove the key; afterwards it is absent. */
    record Delete() implements Action {}

    /**
     * Compare-and-set: if the key currently holds {@code expected} (or is absent, when {@code expected}
     * is empty), set it to {@code newValue}; otherwise change nothing.
     *
     * <p>An etcd-like store compares on the key's modification revision, not on its value. A client
     * that reads (value V, revision R) and then sends "CAS if revision == R" is recorded here as
     * "CAS if value == V". The two are the same test exactly when every write writes a value never
     * written before: then each value names one write, and that write's revision, and back. With
     * repeated values they differ (put A, put B, put A: the value matches A again, the revision does
     * not), so clients that feed this checker must write unique values.
     */
    record Cas(Optional<String> expected, String newValue) implements Action {
        public Cas {
            Objects.requireNonNull(expected, "cas expected value (use Optional.empty() for 'key absent')");
            Objects.requireNonNull(newValue, "cas new value");
        }
    }

    static Put put(String value) {
        return new Put(value);
    }

    static Get get() {
        return new Get();
    }

    static Delete delete() {
        return new Delete();
    }

    static Cas cas(String expected, String newValue) {
        return new Cas(Optional.of(expected), newValue);
    }

    /** A CAS that succeeds only if the key does not exist (etcd: mod revision 0). */
    static Cas casIfAbsent(String newValue) {
        return new Cas(Optional.empty(), newValue);
    }
}
