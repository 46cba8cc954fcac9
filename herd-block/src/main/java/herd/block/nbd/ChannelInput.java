package herd.block.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * A connection's buffered input, which can also fill a buffer straight from the socket's channel:
 * what is already buffered is taken first, the rest is read into the buffer by the channel. The
 * buffer is direct, so the kernel copies into it with no temporary buffer in between (a heap
 * buffer, as in {@link java.io.BufferedInputStream} over the socket's stream, costs a second copy of
 * every byte). Read by one thread at a time, the connection's reader.
 *
 * <p>A fill reads as much as has arrived, up to the buffer's size, so that a stream of small
 * requests costs few system calls. After a payload larger than the buffer, though, the next fill
 * (that one only) asks for no more than a request header: a client sending large writes sends the
 * next one's data right behind its header, and up to a buffer's worth of it would otherwise be read
 * into the buffer and then copied again into the payload's buffer (with 1 MiB writes and a 128 KiB
 * buffer, up to an eighth of the data).
 */
final class ChannelInput extends InputStream {
    private final SocketChannel channel;
    /** A stream of the channel, asked only how many bytes wait in the socket. */
    private final InputStream socketStream;
    /** Bytes received and not read yet lie between its position and its limit. */
    private final ByteBuffer buffer;
    /** What a fill reads after a large payload: the size of a request header. */
    private final int headerBytes;
    /** The most the next fill reads: the whole buffer, or only a header right after a large payload. */
    private int fillBytes;

    /**
     * @param channel a socket's channel (in blocking mode)
     * @param headerBytes the size of a request header, at most {@code bufferBytes}
     */
    ChannelInput(SocketChannel channel, int bufferBytes, int headerBytes) {
        if (headerBytes < 1 || headerBytes > bufferBytes) {
            throw new IllegalArgumentException("a header of " + headerBytes + " bytes does not fit a buffer of " + bufferBytes);
        }
        this.channel = channel;
        this.socketStream = Channels.newInputStream(channel); // its available() asks the socket
        this.buffer = ByteBuffer.allocateDirect(bufferBytes).limit(0);
        this.headerBytes = headerBytes;
        this.fillBytes = bufferBytes;
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

    /**
     * Bytes received and not read yet: buffered here, or else waiting in the socket (one system
     * call, which does not block).
     */
    int waiting() throws IOException {
        return buffer.hasRemaining() ? buffer.remaining() : socketStream.available();
    }

    /** Fills {@code destination} to its limit; after more than a buffer's worth, the next fill reads only a header. */
    void readFully(ByteBuffer destination) throws IOException {
        if (destination.remaining() > buffer.capacity()) {
            fillBytes = headerBytes;
        }
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

    /**
     * Reads what has arrived into the empty buffer, up to {@link #fillBytes}; -1 at the end of the
     * stream. A header-sized limit holds for one fill: the small payload or request behind that header
     * is read in bulk again, not a header's worth per system call.
     */
    private int fill() throws IOException {
        buffer.clear().limit(fillBytes);
        fillBytes = buffer.capacity();
        try {
            return channel.read(buffer);
        } finally {
            buffer.flip(); // empty again if the read failed
        }
    }
}
