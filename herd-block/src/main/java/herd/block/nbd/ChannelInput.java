package herd.block.nbd;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connection's buffered input, which can also fill a buffer straight from the socket's channel:
 * what is already buffered is taken first, the rest is read into the buffer by the channel (into a
 * direct buffer with no copy in the JVM). Read by one thread at a time, the connection's reader.
 */
final class ChannelInput extends BufferedInputStream {
    private final SocketChannel channel;

    /** @param socket a socket of a {@link SocketChannel} (in blocking mode) */
    ChannelInput(Socket socket, int bufferBytes) throws IOException {
        super(socket.getInputStream(), bufferBytes);
        this.channel = socket.getChannel();
    }

    /** Fills {@code destination} to its limit. */
    void readFully(ByteBuffer destination) throws IOException {
        int buffered = Math.min(count - pos, destination.remaining());
        if (buffered > 0) {
            destination.put(buf, pos, buffered);
            pos += buffered;
        }
        while (destination.hasRemaining()) {
            if (channel.read(destination) < 0) {
                throw new EOFException("the client closed the connection in the middle of a write's data");
            }
        }
    }
}
