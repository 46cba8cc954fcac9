package herd.server.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** An answer made before it is written: an HTTP status and a JSON body. */
record JsonAnswer(int status, ObjectNode body) {

    static JsonAnswer of(ApiException e) {
        return new JsonAnswer(e.status(), JsonViews.error(e.code(), e.getMessage()));
    }

    /** A step from a result to an answer that may refuse with an {@link ApiException}. */
    interface Step<T> {
        JsonAnswer apply(T result) throws ApiException;
    }

    /** The answer {@code step} makes of {@code result}; an {@link ApiException} fails the future with it. */
    static <T> CompletableFuture<JsonAnswer> from(CompletableFuture<T> result, Step<T> step) {
        return result.thenApply(value -> {
            try {
                return step.apply(value);
            } catch (ApiException e) {
                throw new CompletionException(e);
            }
        });
    }
}
