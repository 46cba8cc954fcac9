package herd.block.nbd;

import java.util.Optional;

/** Checks a request against the negotiated session before it reaches the device. Pure. */
final class NbdRequests {
    private NbdRequests() {}

    /** What the session's export and negotiation allow; fixed when transmission starts. */
    record Limits(long exportSizeBytes, boolean readOnly, boolean blockStatusNegotiated) {}

    /** Empty when the request may be served, else the error to answer it with. */
    static Optional<DeviceError> validate(NbdRequest request, Limits limits) {
        // FUA is valid on every command once NBD_FLAG_SEND_FUA is advertised (always, here): the
        // protocol says the server must accept it, and older qemu sets it on its flushes. A command
        // that writes nothing has nothing for it to make durable.
        int allowedFlags = switch (request.type()) {
            case NbdProtocol.CMD_READ, NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_WRITE, NbdProtocol.CMD_TRIM ->
                    NbdProtocol.CMD_FLAG_FUA;
            case NbdProtocol.CMD_WRITE_ZEROES -> NbdProtocol.CMD_FLAG_FUA | NbdProtocol.CMD_FLAG_NO_HOLE;
            case NbdProtocol.CMD_BLOCK_STATUS -> NbdProtocol.CMD_FLAG_FUA | NbdProtocol.CMD_FLAG_REQ_ONE;
            default -> -1;
        };
        if (allowedFlags < 0) {
            return invalid("command " + request.type() + " is not supported by this server");
        }
        if ((request.flags() & ~allowedFlags) != 0) {
            return invalid("flags 0x" + Integer.toHexString(request.flags()) + " are not valid for "
                    + request.commandName());
        }
        if (request.type() == NbdProtocol.CMD_FLUSH) {
            return Optional.empty();
        }
        if ((request.isRead() || request.isWrite()) && request.length() > NbdProtocol.MAX_PAYLOAD_BYTES) {
            return invalid(request.commandName() + " of " + request.length() + " bytes exceeds the maximum of "
                    + NbdProtocol.MAX_PAYLOAD_BYTES + " bytes advertised in NBD_INFO_BLOCK_SIZE");
        }
        if (request.offset() < 0 || request.offset() > limits.exportSizeBytes()
                || request.length() > limits.exportSizeBytes() - request.offset()) {
            // the protocol asks for ENOSPC on writes beyond the end, EINVAL on the rest
            Errno errno = request.isWrite() || request.type() == NbdProtocol.CMD_WRITE_ZEROES ? Errno.ENOSPC : Errno.EINVAL;
            return Optional.of(new DeviceError(errno, request.commandName() + " at offset "
                    + Long.toUnsignedString(request.offset()) + " of " + request.length()
                    + " bytes goes beyond the end of the export (" + limits.exportSizeBytes() + " bytes)"));
        }
        boolean changesData = request.isWrite() || request.type() == NbdProtocol.CMD_TRIM
                || request.type() == NbdProtocol.CMD_WRITE_ZEROES;
        if (changesData && limits.readOnly()) {
            return Optional.of(new DeviceError(Errno.EPERM, "the export is read-only"));
        }
        if (request.type() == NbdProtocol.CMD_BLOCK_STATUS) {
            if (!limits.blockStatusNegotiated()) {
                return invalid("BLOCK_STATUS needs the base:allocation meta context, selected with "
                        + "NBD_OPT_SET_META_CONTEXT after structured replies");
            }
            if (request.length() == 0) {
                return invalid("BLOCK_STATUS needs a positive length");
            }
        }
        return Optional.empty();
    }

    private static Optional<DeviceError> invalid(String message) {
        return Optional.of(new DeviceError(Errno.EINVAL, message));
    }
}
