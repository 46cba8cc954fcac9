package herd.server.storage;

import herd.block.volume.ObjectError;
import herd.block.volume.ObjectResult;

/**
 * The answer of one copy's node to an object operation: done, an operating error of that copy, or
 * "retry": the node cannot answer for this epoch right now (the epoch moved on, it has not caught up,
 * it is unreachable, or a copy it needs is). The replicated client waits for a new epoch on retry.
 */
sealed interface CopyReply<T> {
    record Ok<T>(T value) implements CopyReply<T> {}

    record Failed<T>(ObjectError error) implements CopyReply<T> {}

    /**
     * Not now. {@code mayStillLand}: the request reached the node (as far as this node can tell) and
     * got no answer in time, so if it is a change, the node may still apply it later; repeating it in
     * the same epoch could then have it land after a newer change of the same bytes.
     */
    record Retry<T>(String reason, boolean mayStillLand) implements CopyReply<T> {
        public Retry(String reason) {
            this(reason, false);
        }
    }

    static <T> CopyReply<T> of(ObjectResult<T> result) {
        return switch (result) {
            case ObjectResult.Ok<T> ok -> new Ok<>(ok.value());
            case ObjectResult.Failed<T> failed -> new Failed<>(failed.error());
        };
    }

    static <T> CopyReply<T> retry(String reason) {
        return new Retry<>(reason);
    }

    /** A request sent that got no answer in time: see {@link Retry#mayStillLand}. */
    static <T> CopyReply<T> unanswered(String reason) {
        return new Retry<>(reason, true);
    }

    /** In words, for logs and reports: what failed, or why to retry. */
    default String describe() {
        return switch (this) {
            case Ok<T> ok -> "done";
            case Failed<T> failed -> failed.error().describe();
            case Retry<T> retry -> "not now: " + retry.reason();
        };
    }

    /** The same failure or retry for another value type. */
    @SuppressWarnings("unchecked")
    default <U> CopyReply<U> cast() {
        if (this instanceof Ok<T>) {
            throw new IllegalStateException("an Ok reply carries a value and cannot change type");
        }
        return (CopyReply<U>) this;
    }
}
