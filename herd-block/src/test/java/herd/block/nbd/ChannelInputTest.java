package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

class ChannelInputTest {

    @Test
    void largeDataIsReadFromTheChannelAfterWhatWasAlreadyBuffered() throws Exception {
        byte[] sent = pattern(300_000);
        try (Loopback loopback = Loopback.sending(sent)) {
            ChannelInput input = new ChannelInput(loopback.accepted.getChannel(), 64 * 1024, 28);
            byte[] header = new byte[28];
            new DataInputStream(input).readFully(header); // fills the stream's buffer with more than the header
            ByteBuffer rest = ByteBuffer.allocateDirect(sent.length - header.length);
            input.readFully(rest);

            assertThat(header).containsExactly(java.util.Arrays.copyOf(sent, 28));
            byte[] received = new byte[rest.flip().remaining()];
            rest.get(received);
            assertThat(received).containsExactly(java.util.Arrays.copyOfRange(sent, 28, sent.length));
        }
    }

    @Test
    void afterDataLargerThanTheBufferOnlyTheNextFillIsLimitedToAHeader() throws Exception {
        int bufferBytes = 64 * 1024;
        byte[] sent = pattern(28 + 100_000 + 28 + 4096 + 28 + 50_000);
        try (Loopback loopback = Loopback.sending(sent)) {
            ChannelInput input = new ChannelInput(loopback.accepted.getChannel(), bufferBytes, 28);
            DataInputStream in = new DataInputStream(input);
            in.readFully(new byte[28]);
            input.readFully(ByteBuffer.allocateDirect(100_000));
            // the large payload is done: the next fill takes only the header behind it
            byte[] secondHeader = new byte[28];
            in.readFully(secondHeader);
            assertThat(input.available()).isZero();
            assertThat(secondHeader).containsExactly(java.util.Arrays.copyOfRange(sent, 100_028, 100_056));
            // the header-sized fill was one: a small payload read through the stream fills in bulk again
            in.readFully(new byte[4096]);
            assertThat(input.available()).isGreaterThan(28);
            in.readFully(new byte[28]);
            ByteBuffer last = ByteBuffer.allocateDirect(50_000);
            input.readFully(last);
            byte[] received = new byte[last.flip().remaining()];
            last.get(received);
            assertThat(received).containsExactly(java.util.Arrays.copyOfRange(sent, sent.length - 50_000, sent.length));
        }
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        return bytes;
    }

    /** A connected pair of loopback sockets; the client has sent its bytes before the test reads any. */
    private record Loopback(ServerSocketChannel server, Socket client, Socket accepted) implements AutoCloseable {
        static Loopback sending(byte[] bytes) throws IOException {
            ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.getLocalAddress()).getPort());
            Socket accepted = server.accept().socket();
            OutputStream out = client.getOutputStream();
            out.write(bytes);
            out.flush();
            return new Loopback(server, client, accepted);
        }

        @Override
        public void close() throws IOException {
            try (server; client; accepted) {
                // closes all three
            }
        }
    }
}
