package herd.lincheck.workload;

import java.util.Objects;
import java.util.Optional;

/**
 * The store under test, as the workload sees it: an etcd-like key-value API where every write gives
 * the key a new modification revision and compare-and-set compares on that revision.
 *
 * <p>Implementations decide what a failure means, and say it with the exception they throw:
 * <ul>
 *   <li>{@link RejectedException}: the store answered that it did nothing (a 4xx: bad request,
 *       forbidden). The operation is recorded as rejected and ignored by the checker.
 *   <li>any other exception (timeout, connection refused or reset, a 5xx that may come after the
 *       write was committed): the operation may or may not have taken effect, and is recorded as
 *       indeterminate. When in doubt, throw this kind: calling a possibly-applied write "rejected"
 *       can make a correct store look broken.
 * </ul>
 * Every call must end by itself within a bounded time (the client's own timeout); the workload
 * interrupts calls still running when it stops.
 *
 * <p>One instance is used by one workload thread only.
 */
public interface KvClient {

    /** Sets {@code key} to {@code value}. */
    Written put(String key, String value) throws Exception;

    /** Reads {@code key}, linearizably. */
    Read get(String key) throws Exception;

    /**
     * Sets {@code key} to {@code value} only if the key's modification revision is
     * {@code expectedModRevision}; 0 means "only if the key does not exist".
     */
    CasResult cas(String key, long expectedModRevision, String value) throws Exception;

    /** Removes {@code key}; removing an absent key is not an error. */
    Written delete(String key) throws Exception;

    /** @param revision the store's revision after the write */
    record Written(long revision) {}

    /**
     * @param value the key's value, empty if the key does not exist
     * @param modRevision the revision of the write that set the value; 0 when the key does not exist
     */
    record Read(Optional<String> value, long modRevision) {
        public Read {
            Objects.requireNonNull(value, "value (use Optional.empty() for an absent key)");
            if (value.isEmpty() && modRevision != 0) {
                throw new IllegalArgumentException("an absent key has modRevision 0, got " + modRevision);
            }
        }
    }

    /**
     * @param succeeded whether the revision matched and the value was set
     * @param revision the store's revision after the call
     */
    record CasResult(boolean succeeded, long revision) {}

    /** The store answered that it did not apply the operation, and never will. */
    final class RejectedException extends Exception {
        public RejectedException(String message) {
            super(message);
        }

        public RejectedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
