package herd.block.nbd;

import java.nio.ByteBuffer;

/**
 * One transmission-phase request header. {@code offset} is unsigned on the wire; a value past
 * {@code Long.MAX_VALUE} arrives negative here and is out of range for every export.
 */
record NbdRequest(int flags, int type, long cookie, long offset, long length) {
    static final int HEADER_BYTES = 28;

    /** Thrown for a header that does not start with the request magic: the stream is lost. */
    static final class BadMagicException extends Exception {
        BadMagicException(int magic) {
            super("request header starts with 0x" + Integer.toHexString(magic) + ", not the request magic 0x"
                    + Integer.toHexString(NbdProtocol.REQUEST_MAGIC));
        }
    }

    static NbdRequest parse(byte[] header) throws BadMagicException {
        ByteBuffer buffer = ByteBuffer.wrap(header);
        int magic = buffer.getInt(0);
        if (magic != NbdProtocol.REQUEST_MAGIC) {
            throw new BadMagicException(magic);
        }
        return new NbdRequest(Short.toUnsignedInt(buffer.getShort(4)), Short.toUnsignedInt(buffer.getShort(6)),
                buffer.getLong(8), buffer.getLong(16), Integer.toUnsignedLong(buffer.getInt(24)));
    }

    boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    boolean isRead() {
        return type == NbdProtocol.CMD_READ;
    }

    boolean isWrite() {
        return type == NbdProtocol.CMD_WRITE;
    }

    /** Whether the client asks for durability: a FLUSH, or a change with FUA. */
    boolean syncs() {
        return type == NbdProtocol.CMD_FLUSH || hasFlag(NbdProtocol.CMD_FLAG_FUA);
    }

    String commandName() {
        return switch (type) {
            case NbdProtocol.CMD_READ -> "READ";
            case NbdProtocol.CMD_WRITE -> "WRITE";
            case NbdProtocol.CMD_DISC -> "DISC";
            case NbdProtocol.CMD_FLUSH -> "FLUSH";
            case NbdProtocol.CMD_TRIM -> "TRIM";
            case NbdProtocol.CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case NbdProtocol.CMD_BLOCK_STATUS -> "BLOCK_STATUS";
            default -> "command " + type;
        };
    }
}
