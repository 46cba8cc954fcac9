package herd.block.nbd;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connection's buffered output, which can also send a payload straight from a buffer: what is
 * buffered (the payload's header, and any replies not yet flushed) leaves with the payload in one
 * gathering write. Sending the header on its own would wake the client once for the header and
 * again for the data. Written by one thread at a time, the holder of the connection's reply lock.
 */
final class ChannelOutput extends BufferedOutputStream {
    private final SocketChannel channel;

    /** @param socket a socket of a {@link SocketChannel} (in blocking mode) */
    ChannelOutput(Socket socket, int bufferBytes) throws IOException {
        super(socket.getOutputStream(), bufferBytes);
        this.channel = socket.getChannel();
    }

    /** Sends what is buffered, then {@code data} from its position to its limit (which it leaves as it is). */
    void flushWith(ByteBuffer data) throws IOException {
        ByteBuffer[] parts = {ByteBuffer.wrap(buf, 0, count), data.duplicate()};
        count = 0;
        while (parts[1].hasRemaining()) {
            channel.write(parts);
        }
    }
}
