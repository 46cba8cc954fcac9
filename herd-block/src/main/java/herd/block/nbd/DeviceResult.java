package herd.block.nbd;

import herd.block.Done;

/** The outcome of a device operation: a value, or an error to send to the client. */
public sealed interface DeviceResult<T> {

    record Ok<T>(T value) implements DeviceResult<T> {}

    record Failed<T>(DeviceError error) implements DeviceResult<T> {}

    static <T> DeviceResult<T> ok(T value) {
        return new Ok<>(value);
    }

    static DeviceResult<Done> done() {
        return new Ok<>(Done.DONE);
    }

    static <T> DeviceResult<T> failed(Errno errno, String message) {
        return new Failed<>(new DeviceError(errno, message));
    }
}
