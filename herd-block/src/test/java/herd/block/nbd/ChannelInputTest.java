package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

class ChannelInputTest {

    @Test
    void largeDataIsReadFromTheChannelAfterWhatWasAlreadyBuffered() throws Exception {
        byte[] sent = new byte[300_000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 31);
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.getLocalAddress()).getPort());
             Socket accepted = server.accept().socket()) {
            try (OutputStream out = client.getOutputStream()) {
                out.write(sent);
                out.flush();
                ChannelInput input = new ChannelInput(accepted, 64 * 1024);
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
    }
}
