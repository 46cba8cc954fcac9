package herd.block.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Encodes server messages and decodes option payloads. Pure: bytes in, bytes out. */
final class NbdMessages {
    private NbdMessages() {}

    /** Longest string (export name, query, message) the protocol allows. */
    static final int MAX_STRING_BYTES = 4096;
    /** Meta context queries accepted in one option. */
    static final int MAX_META_CONTEXT_QUERIES = 64;
    /** Information requests accepted in one NBD_OPT_INFO / NBD_OPT_GO. */
    static final int MAX_INFO_REQUESTS = 64;

    /** Thrown for an option payload that does not parse; answered with NBD_REP_ERR_INVALID. */
    static final class MalformedOptionException extends Exception {
        MalformedOptionException(String message) {
            super(message);
        }
    }

    record GoRequest(String exportName, List<Integer> informationRequests) {}

    record MetaContextRequest(String exportName, List<String> queries) {}

    // ---- option phase

    static byte[] optionReply(int option, int replyType, byte[] payload) {
        return ByteBuffer.allocate(20 + payload.length)
                .putLong(NbdProtocol.OPTION_REPLY_MAGIC)
                .putInt(option)
                .putInt(replyType)
                .putInt(payload.length)
                .put(payload)
                .array();
    }

    static byte[] optionError(int option, int errorType, String message) {
        return optionReply(option, errorType, truncated(message));
    }

    static byte[] infoExport(long sizeBytes, int transmissionFlags) {
        return ByteBuffer.allocate(12).putShort((short) NbdProtocol.INFO_EXPORT).putLong(sizeBytes)
                .putShort((short) transmissionFlags).array();
    }

    static byte[] infoName(String exportName) {
        byte[] name = utf8(exportName);
        return ByteBuffer.allocate(2 + name.length).putShort((short) NbdProtocol.INFO_NAME).put(name).array();
    }

    static byte[] infoBlockSize() {
        return ByteBuffer.allocate(14).putShort((short) NbdProtocol.INFO_BLOCK_SIZE)
                .putInt(NbdProtocol.MIN_BLOCK_SIZE_BYTES)
                .putInt(NbdProtocol.PREFERRED_BLOCK_SIZE_BYTES)
                .putInt(NbdProtocol.MAX_PAYLOAD_BYTES)
                .array();
    }

    static byte[] serverEntry(String exportName) {
        byte[] name = utf8(exportName);
        return ByteBuffer.allocate(4 + name.length).putInt(name.length).put(name).array();
    }

    static byte[] metaContext(int contextId, String contextName) {
        byte[] name = utf8(contextName);
        return ByteBuffer.allocate(4 + name.length).putInt(contextId).put(name).array();
    }

    /** The reply to NBD_OPT_EXPORT_NAME: size, flags and, unless the client said no, 124 zeros. */
    static byte[] exportNameReply(long sizeBytes, int transmissionFlags, boolean noZeroes) {
        return ByteBuffer.allocate(10 + (noZeroes ? 0 : 124)).putLong(sizeBytes).putShort((short) transmissionFlags)
                .array();
    }

    static GoRequest parseGo(byte[] data) throws MalformedOptionException {
        ByteBuffer buffer = ByteBuffer.wrap(data);
        String exportName = readString(buffer, "export name");
        int count = readUnsignedShort(buffer, "number of information requests");
        if (count > MAX_INFO_REQUESTS) {
            throw new MalformedOptionException(count + " information requests; at most " + MAX_INFO_REQUESTS);
        }
        List<Integer> requests = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            requests.add(readUnsignedShort(buffer, "information request"));
        }
        expectEnd(buffer);
        return new GoRequest(exportName, requests);
    }

    static MetaContextRequest parseMetaContext(byte[] data) throws MalformedOptionException {
        ByteBuffer buffer = ByteBuffer.wrap(data);
        String exportName = readString(buffer, "export name");
        if (buffer.remaining() < 4) {
            throw new MalformedOptionException("the option ends before the number of queries");
        }
        long count = Integer.toUnsignedLong(buffer.getInt());
        if (count > MAX_META_CONTEXT_QUERIES) {
            throw new MalformedOptionException(count + " meta context queries; at most " + MAX_META_CONTEXT_QUERIES);
        }
        List<String> queries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            queries.add(readString(buffer, "query"));
        }
        expectEnd(buffer);
        return new MetaContextRequest(exportName, queries);
    }

    // ---- transmission phase

    static byte[] simpleReplyHeader(int errno, long cookie) {
        return ByteBuffer.allocate(16).putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(errno).putLong(cookie).array();
    }

    static byte[] chunkHeader(int flags, int type, long cookie, int payloadLength) {
        return ByteBuffer.allocate(20).putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(cookie).putInt(payloadLength).array();
    }

    /** A final NBD_REPLY_TYPE_ERROR chunk carrying the errno and a message. */
    static byte[] errorChunk(long cookie, DeviceError error) {
        byte[] message = truncated(error.message());
        byte[] header = chunkHeader(NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_ERROR, cookie,
                6 + message.length);
        return ByteBuffer.allocate(header.length + 6 + message.length).put(header).putInt(error.errno().code())
                .putShort((short) message.length).put(message).array();
    }

    /** The header of a final NBD_REPLY_TYPE_OFFSET_DATA chunk, including the offset field. */
    static byte[] offsetDataHeader(long cookie, long offset, int dataLength) {
        byte[] header = chunkHeader(NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, cookie,
                8 + dataLength);
        return ByteBuffer.allocate(header.length + 8).put(header).putLong(offset).array();
    }

    /** A final NBD_REPLY_TYPE_BLOCK_STATUS chunk; every extent is shorter than 4 GiB. */
    static byte[] blockStatusChunk(long cookie, int contextId, List<Extent> extents) {
        int payloadLength = 4 + 8 * extents.size();
        ByteBuffer chunk = ByteBuffer.allocate(20 + payloadLength)
                .put(chunkHeader(NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_BLOCK_STATUS, cookie,
                        payloadLength))
                .putInt(contextId);
        for (Extent extent : extents) {
            if (extent.lengthBytes() > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("extent of " + extent.lengthBytes() + " bytes does not fit 32 bits");
            }
            chunk.putInt((int) extent.lengthBytes()).putInt(extent.nbdFlags());
        }
        return chunk.array();
    }

    // ---- helpers

    private static String readString(ByteBuffer buffer, String what) throws MalformedOptionException {
        if (buffer.remaining() < 4) {
            throw new MalformedOptionException("the option ends before the length of the " + what);
        }
        long length = Integer.toUnsignedLong(buffer.getInt());
        if (length > MAX_STRING_BYTES || length > buffer.remaining()) {
            throw new MalformedOptionException("the " + what + " is " + length + " bytes long; the option has "
                    + buffer.remaining() + " left and strings are at most " + MAX_STRING_BYTES);
        }
        byte[] bytes = new byte[(int) length];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static int readUnsignedShort(ByteBuffer buffer, String what) throws MalformedOptionException {
        if (buffer.remaining() < 2) {
            throw new MalformedOptionException("the option ends before the " + what);
        }
        return Short.toUnsignedInt(buffer.getShort());
    }

    private static void expectEnd(ByteBuffer buffer) throws MalformedOptionException {
        if (buffer.hasRemaining()) {
            throw new MalformedOptionException("the option has " + buffer.remaining() + " unexpected trailing bytes");
        }
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] truncated(String message) {
        byte[] bytes = utf8(message);
        if (bytes.length <= MAX_STRING_BYTES) {
            return bytes;
        }
        return new String(bytes, 0, MAX_STRING_BYTES - 4, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
    }
}
