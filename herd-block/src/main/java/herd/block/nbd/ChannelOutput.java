package herd.block.nbd;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * A connection's buffered output, which can also take a reply's data from a buffer: small data that
 * fits is copied into the stream's buffer, to leave with the replies around it; other data leaves at
 * once from its own buffer, with what is buffered (its header, and any replies not yet flushed) in
 * one gathering write. Sending the header on its own would wake the client once for the header and
 * again for the data. Written by one thread at a time, the holder of the connection's reply lock.
 */
final class ChannelOutput extends BufferedOutputStream {
    /** Data up to this share of the buffer is copied into it; larger data is sent from its own buffer. */
    private static final int COPIED_SHARE = 8;

    private final SocketChannel channel;

    /** @param channel a socket's channel (in blocking mode) */
    ChannelOutput(SocketChannel channel, int bufferBytes) {
        super(Channels.newOutputStream(channel), bufferBytes);
        this.channel = channel;
    }

    /**
     * Writes {@code data} from its position to its limit (which it leaves as it is): into the buffer
     * when it fits there, to be sent with the replies around it; otherwise at once, after what is
     * buffered, in one gathering write.
     */
    void writeData(ByteBuffer data) throws IOException {
        int length = data.remaining();
        if (length <= buf.length / COPIED_SHARE && length <= buf.length - count) {
            data.get(data.position(), buf, count, length);
            count += length;
        } else {
            flushWith(data);
        }
    }

    /** Whether nothing is buffered: everything written so far has been sent. */
    boolean isEmpty() {
        return count == 0;
    }

    /** Sends what is buffered, then {@code data} from its position to its limit (which it leaves as it is). */
    private void flushWith(ByteBuffer data) throws IOException {
        ByteBuffer[] parts = {ByteBuffer.wrap(buf, 0, count), data.duplicate()};
        count = 0;
        while (parts[1].hasRemaining()) {
            channel.write(parts);
        }
    }
}
