package herd.block.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A byte-level NBD client for what the real clients never send: malformed and oversized requests,
 * unknown options, deliberate pipelining. Speaks the wire format directly.
 */
final class RawNbdClient implements AutoCloseable {
    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A simple reply, or one structured chunk ({@code type} -1 for simple replies). */
    record Reply(long cookie, int error, int type, int flags, byte[] payload) {
        int structuredErrno() {
            return ByteBuffer.wrap(payload).getInt(0);
        }

        String structuredMessage() {
            int length = Short.toUnsignedInt(ByteBuffer.wrap(payload).getShort(4));
            return new String(payload, 6, length, StandardCharsets.UTF_8);
        }
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    boolean structured;
    long exportSize;
    int transmissionFlags;

    RawNbdClient(InetSocketAddress server) throws IOException {
        this(server, 0);
    }

    /** @param receiveBufferBytes the socket's receive buffer, fixed; 0 for the system's, which grows */
    RawNbdClient(InetSocketAddress server, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes); // before connecting: it sets the TCP window
        }
        socket.connect(server);
        socket.setSoTimeout(60_000);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
        if (in.readLong() != NbdProtocol.INIT_PASSWD || in.readLong() != NbdProtocol.IHAVEOPT) {
            throw new IOException("not an NBD newstyle server");
        }
        in.readUnsignedShort();
        out.writeInt(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        out.flush();
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        if (in.readLong() != NbdProtocol.OPTION_REPLY_MAGIC) {
            throw new IOException("bad option reply magic");
        }
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    void negotiateStructuredReplies() throws IOException {
        sendOption(NbdProtocol.OPT_STRUCTURED_REPLY, new byte[0]);
        if (readOptionReply().type() != NbdProtocol.REP_ACK) {
            throw new IOException("structured replies refused");
        }
        structured = true;
    }

    /** Sends NBD_OPT_GO; returns the first error reply, or null once the export is entered. */
    OptionReply go(String exportName) throws IOException {
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        sendOption(NbdProtocol.OPT_GO, ByteBuffer.allocate(6 + name.length).putInt(name.length).put(name)
                .putShort((short) 0).array());
        while (true) {
            OptionReply reply = readOptionReply();
            if (reply.type() == NbdProtocol.REP_ACK) {
                return null;
            }
            if (reply.type() < 0) {
                return reply;
            }
            ByteBuffer data = ByteBuffer.wrap(reply.data());
            if (reply.type() == NbdProtocol.REP_INFO && data.getShort(0) == NbdProtocol.INFO_EXPORT) {
                exportSize = data.getLong(2);
                transmissionFlags = Short.toUnsignedInt(data.getShort(10));
            }
        }
    }

    void sendRequest(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        queueRequest(flags, type, cookie, offset, length, payload);
        out.flush();
    }

    /** Writes a request into the output buffer without sending it: requests queued together leave in one segment. */
    void queueRequest(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(NbdProtocol.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) {
            out.write(payload);
        }
    }

    /**
     * Reads one reply; {@code readLengthByCookie} tells how much data a successful simple reply to a
     * read carries (simple replies do not say).
     */
    Reply readReply(java.util.function.LongToIntFunction readLengthByCookie) throws IOException {
        int magic = in.readInt();
        if (magic == NbdProtocol.SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long cookie = in.readLong();
            byte[] data = new byte[error == 0 ? readLengthByCookie.applyAsInt(cookie) : 0];
            in.readFully(data);
            return new Reply(cookie, error, -1, 0, data);
        }
        if (magic != NbdProtocol.STRUCTURED_REPLY_MAGIC) {
            throw new IOException("bad reply magic 0x" + Integer.toHexString(magic));
        }
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return new Reply(cookie, 0, type, flags, payload);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
