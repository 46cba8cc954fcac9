package herd.block.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connection's buffered input, which can also fill a buffer straight from the socket's channel:
 * what is already buffered is taken first, the rest is read into the buffer by the channel. The
 * buffer is direct, so the kernel copies into it with no temporary buffer in between (a heap
 * buffer, as in {@link java.io.BufferedInputStream} over the socket's stream, costs a second copy of
 * every byte). Read by one thread at a time, the connection's reader.
 */
final class ChannelInput extends InputStream {
    private final SocketChannel channel;
    /** Bytes received and not read yet lie between its position and its limit. */
    private final ByteBuffer buffer;

    /** @param socket a socket of a {@link SocketChannel} (in blocking mode) */
    ChannelInput(Socket socket, int bufferBytes) {
        this.channel = socket.getChannel();
        this.buffer = ByteBuffer.allocateDirect(bufferBytes).limit(0);
    }

    @Override
    public int read() throws IOException {
        if (!buffer.hasRemaining() && fill() < 0) {
            return -1;
        }
        return buffer.get() & 0xff;
    }

    @Override
    public int read(byte[] destination, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (!buffer.hasRemaining() && fill() < 0) {
            return -1;
        }
        int taken = Math.min(length, buffer.remaining());
        buffer.get(destination, offset, taken);
        return taken;
    }

    @Override
    public int available() {
        return buffer.remaining();
    }

    /** Fills {@code destination} to its limit. */
    void readFully(ByteBuffer destination) throws IOException {
        int buffered = Math.min(buffer.remaining(), destination.remaining());
        if (buffered > 0) {
            destination.put(destination.position(), buffer, buffer.position(), buffered);
            destination.position(destination.position() + buffered);
            buffer.position(buffer.position() + buffered);
        }
        while (destination.hasRemaining()) {
            if (channel.read(destination) < 0) {
                throw new EOFException("the client closed the connection in the middle of a write's data");
            }
        }
    }

    /** Reads what has arrived into the empty buffer; -1 at the end of the stream. */
    private int fill() throws IOException {
        buffer.clear();
        try {
            return channel.read(buffer);
        } finally {
            buffer.flip(); // empty again if the read failed
        }
    }
}
