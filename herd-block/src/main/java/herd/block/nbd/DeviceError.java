package herd.block.nbd;

/** A failed device operation: the errno the client receives and a message for a human. */
public record DeviceError(Errno errno, String message) {}
