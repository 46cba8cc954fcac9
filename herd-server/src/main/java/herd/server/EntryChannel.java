package herd.server;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The entry channel: how a follower's write entries reach the leader (see
 * {@link herd.control.LeaderForwarder}) over one plain TCP connection per leader, with many entries
 * on their way at once. Over HTTP each entry cost a request of its own: a hand-off to a thread on the
 * follower to make the call, the API server's dispatcher and a handler thread on the leader. That
 * made more than one entry in flight per follower cost more than it gained, so a follower's writes
 * waited for its previous entry to come back. Here a follower writes an entry's frame from the thread
 * that sends it and one reader thread takes every reply; on the leader one thread reads the frames
 * and one writes the replies.
 *
 * <p>A connection starts with a hello from the follower: {@link #HELLO_MAGIC} (8 bytes), then the
 * node token's length (int) and bytes. The leader answers one reply with id 0: {@link #STATUS_OK}, or
 * {@link #STATUS_FAILED} with the reason before it closes the connection. Then, all numbers
 * big-endian, in both directions independently:
 *
 * <pre>
 * request: id (8 bytes, from 1 up) length (4) entry (length bytes)
 * reply:   id (8) status (1) length (4) body (length bytes):
 *          OK: the reply {@link herd.control.ControlPlaneNode#appendForwarded} gave;
 *          NOT_APPENDED, FAILED: the reason, in UTF-8
 * </pre>
 *
 * Replies come in the order the entries complete, not the order they were sent. The leader finds
 * the channel's port when asked at {@link #PORT_PATH}; a leader that does not answer there takes
 * entries over HTTP alone ({@link HttpLeaderForwarder}).
 */
final class EntryChannel {
    /** "HERDENT1". */
    static final long HELLO_MAGIC = 0x48455244454e5431L;
    static final String PORT_PATH = "/v1/internal/entries/channel";
    /** The leader appended the entry: the body is its reply. */
    static final byte STATUS_OK = 0;
    /** The leader certainly appended nothing (it does not lead, or is not ready yet): send it elsewhere. */
    static final byte STATUS_NOT_APPENDED = 1;
    /** The entry failed, or its outcome is unknown: the body says which. */
    static final byte STATUS_FAILED = 2;
    /** Longer tokens are not ours: the hello is refused before reading them. */
    static final int MAX_TOKEN_BYTES = 1024;
    /**
     * Largest entry or reply. A batch holds at most 2 MiB of commands and one command is less than an
     * API request body (2 MiB); anything much larger is not this protocol.
     */
    static final int MAX_FRAME_BYTES = 8 << 20;

    private EntryChannel() {}

    /** One reply: the id of the entry it answers, its status, and its body. */
    record Reply(long id, byte status, byte[] body) {
        static Reply ok(long id, byte[] body) {
            return new Reply(id, STATUS_OK, body);
        }

        static Reply notAppended(long id, String reason) {
            return new Reply(id, STATUS_NOT_APPENDED, reason.getBytes(StandardCharsets.UTF_8));
        }

        static Reply failed(long id, String reason) {
            return new Reply(id, STATUS_FAILED, reason.getBytes(StandardCharsets.UTF_8));
        }

        String reason() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    static void writeHello(DataOutputStream out, String token) throws IOException {
        byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
        out.writeLong(HELLO_MAGIC);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /** The token a hello carries; an {@link IOException} when it is not a hello of this channel. */
    static byte[] readHello(DataInputStream in) throws IOException {
        if (in.readLong() != HELLO_MAGIC) {
            throw new IOException("not an entry channel hello");
        }
        int length = in.readInt();
        if (length < 0 || length > MAX_TOKEN_BYTES) {
            throw new IOException("a node token of " + length + " bytes");
        }
        return in.readNBytes(length);
    }

    static void writeRequest(DataOutputStream out, long id, byte[] entry) throws IOException {
        out.writeLong(id);
        out.writeInt(entry.length);
        out.write(entry);
    }

    static void writeReply(DataOutputStream out, Reply reply) throws IOException {
        out.writeLong(reply.id());
        out.writeByte(reply.status());
        out.writeInt(reply.body().length);
        out.write(reply.body());
    }

    static Reply readReply(DataInputStream in) throws IOException {
        long id = in.readLong();
        byte status = in.readByte();
        if (status != STATUS_OK && status != STATUS_NOT_APPENDED && status != STATUS_FAILED) {
            throw new IOException("a reply with status " + status + ": the leader speaks another entry channel");
        }
        return new Reply(id, status, readBody(in));
    }

    /** A frame's length and bytes; a length out of bounds means the peer speaks another protocol. */
    static byte[] readBody(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_FRAME_BYTES) {
            throw new IOException("a frame of " + length + " bytes (at most " + MAX_FRAME_BYTES + ")");
        }
        byte[] body = new byte[length]; // not readNBytes(length): it fills a 16 KiB buffer first, then copies
        in.readFully(body);
        return body;
    }
}
