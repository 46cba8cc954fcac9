package herd.block.volume;

import herd.block.Done;

/** The outcome of an object operation: a value, or an operating error the caller handles. */
public sealed interface ObjectResult<T> {

    record Ok<T>(T value) implements ObjectResult<T> {}

    record Failed<T>(ObjectError error) implements ObjectResult<T> {}

    static <T> ObjectResult<T> ok(T value) {
        return new Ok<>(value);
    }

    static ObjectResult<Done> done() {
        return new Ok<>(Done.DONE);
    }

    static <T> ObjectResult<T> failed(ObjectError error) {
        return new Failed<>(error);
    }
}
