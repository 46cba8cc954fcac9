package herd.server.storage;

import herd.blockcore.ObjectId;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The node-to-node object channel: the data path's reads, writes and flushes of other nodes' copies,
 * over a plain TCP connection instead of HTTP. Each HTTP call cost a hand-off from the API server's
 * dispatcher to a handler thread and back, more than the copy's own write takes; a channel connection
 * is served by one thread that blocks on it, so a replicated write costs one wake-up on each node.
 * Everything else between nodes (stamps, copies, repairs, lists) stays on {@link ObjectWire}.
 *
 * <p>A connection starts with a hello from the caller: {@link #HELLO_MAGIC} (8 bytes), then the node
 * token's length (int) and bytes. The server answers one reply (below); on a refusal it closes the
 * connection. Then requests and replies alternate, one at a time, all numbers big-endian:
 *
 * <pre>
 * request: op (1 byte) epoch (8) object id (8) offset (4) length (4), then
 *          WRITE: length bytes of data;  FLUSH: length object ids (8 bytes each; epoch, id and offset are 0)
 * reply:   status (1 byte: 0 ok, 1 error) body length (4), then the body:
 *          ok READ: the data;  ok otherwise: nothing;
 *          error: HTTP status (4), kind length (2), kind and message in UTF-8 (the rest), as {@link ObjectWire} names them
 * </pre>
 */
final class ObjectChannel {
    /** "HERDOBJ1". */
    static final long HELLO_MAGIC = 0x484552444f424a31L;
    static final byte OP_READ = 1;
    static final byte OP_WRITE = 2;
    static final byte OP_FLUSH = 3;
    static final int REQUEST_HEADER_BYTES = 1 + 8 + 8 + 4 + 4;
    static final int REPLY_HEADER_BYTES = 1 + 4;
    static final byte STATUS_OK = 0;
    static final byte STATUS_ERROR = 1;
    /** Longer tokens are not ours: the hello is refused before reading them. */
    static final int MAX_TOKEN_BYTES = 1024;
    /** Objects one FLUSH names at most; a caller with more sends several. */
    static final int MAX_FLUSH_IDS = 65_536;
    /** Error bodies are words, not data. */
    static final int MAX_ERROR_BYTES = 64 * 1024;

    private ObjectChannel() {}

    /** One request's header, as read by the serving end. */
    record Request(byte op, long epoch, ObjectId id, int offset, int length) {
        /** Why a request cannot be served, or null: the connection is closed after such a request. */
        String invalidity() {
            return switch (op) {
                case OP_READ, OP_WRITE -> offset < 0 || length < 0 || (long) offset + length > ObjectId.OBJECT_SIZE_BYTES
                    ? "range " + offset + "+" + length + " does not fit in one object" : null;
                case OP_FLUSH -> length < 0 || length > MAX_FLUSH_IDS
                    ? "a flush of " + length + " objects (at most " + MAX_FLUSH_IDS + ")" : null;
                default -> "unknown operation " + op;
            };
        }
    }

    static ByteBuffer hello(String token) {
        byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + 4 + bytes.length).putLong(HELLO_MAGIC).putInt(bytes.length).put(bytes).flip();
    }

    static void putRequest(ByteBuffer header, byte op, long epoch, ObjectId id, int offset, int length) {
        header.clear().put(op).putLong(epoch).putLong(id.value()).putInt(offset).putInt(length).flip();
    }

    static Request getRequest(ByteBuffer header) {
        return new Request(header.get(), header.getLong(), new ObjectId(header.getLong()), header.getInt(), header.getInt());
    }

    static ByteBuffer flushIds(List<ObjectId> ids) {
        ByteBuffer body = ByteBuffer.allocate(ids.size() * Long.BYTES);
        ids.forEach(id -> body.putLong(id.value()));
        return body.flip();
    }

    static List<ObjectId> readFlushIds(ReadableByteChannel channel, int count) throws IOException {
        ByteBuffer body = ByteBuffer.allocate(count * Long.BYTES);
        readFully(channel, body);
        List<ObjectId> ids = new ArrayList<>(count);
        for (body.flip(); body.hasRemaining(); ) {
            ids.add(new ObjectId(body.getLong()));
        }
        return ids;
    }

    static ByteBuffer errorBody(ObjectWire.WireError error) {
        byte[] kind = error.kind().getBytes(StandardCharsets.UTF_8);
        byte[] message = error.message().getBytes(StandardCharsets.UTF_8);
        int messageBytes = Math.min(message.length, MAX_ERROR_BYTES - 6 - kind.length);
        return ByteBuffer.allocate(6 + kind.length + messageBytes).putInt(error.httpStatus()).putShort((short) kind.length)
            .put(kind).put(message, 0, messageBytes).flip();
    }

    static ObjectWire.WireError readErrorBody(ByteBuffer body) {
        int status = body.getInt();
        byte[] kind = new byte[body.getShort()];
        body.get(kind);
        byte[] message = new byte[body.remaining()];
        body.get(message);
        return new ObjectWire.WireError(status, new String(kind, StandardCharsets.UTF_8),
            new String(message, StandardCharsets.UTF_8));
    }

    /** Fills {@code buffer}'s remaining bytes from the channel; the peer closing first is an error. */
    static void readFully(ReadableByteChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("the connection closed with " + buffer.remaining() + " bytes still to come");
            }
        }
    }

    static void writeFully(WritableByteChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
