package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Replies over a real loopback socket: when they wait in the buffer and when they leave. */
class ReplyOutputTest {
    /** Long enough that no test ends before it: replies leave for other reasons. */
    private static final Duration NO_HOLD_LIMIT = Duration.ofHours(1);
    private static final int REPLY_BYTES = 16;

    private ServerSocketChannel server;
    private Socket client;
    private Socket accepted;
    private DataInputStream fromServer;
    private ReplyOutput replies;

    @BeforeEach
    void connect() throws Exception {
        server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        client = new Socket("127.0.0.1", ((InetSocketAddress) server.getLocalAddress()).getPort());
        accepted = server.accept().socket();
        accepted.setTcpNoDelay(true);
        fromServer = new DataInputStream(client.getInputStream());
    }

    @AfterEach
    void close() throws Exception {
        if (replies != null) {
            replies.close(); // stops its flusher
        }
        client.close();
        accepted.close();
        server.close();
    }

    private ReplyOutput replies(Duration maxHold) throws Exception {
        ChannelOutput channelOut = new ChannelOutput(accepted.getChannel(), 128 * 1024);
        replies = new ReplyOutput(channelOut, new DataOutputStream(channelOut), "test", maxHold);
        return replies;
    }

    private static byte[] reply(long cookie) {
        return NbdMessages.simpleReplyHeader(0, cookie);
    }

    /** Reads {@code count} simple replies, waiting at most 10 s for them, and returns their cookies. */
    private long[] receive(int count) throws Exception {
        client.setSoTimeout(10_000);
        long[] cookies = new long[count];
        for (int i = 0; i < count; i++) {
            byte[] header = new byte[REPLY_BYTES];
            fromServer.readFully(header);
            cookies[i] = ByteBuffer.wrap(header).getLong(8);
        }
        return cookies;
    }

    private void assertNothingArrivesFor(Duration wait) throws Exception {
        client.setSoTimeout((int) wait.toMillis());
        assertThatThrownBy(fromServer::read).isInstanceOf(SocketTimeoutException.class);
    }

    @Test
    void theReplyToTheOnlyRequestInServiceLeavesAtOnce() throws Exception {
        replies(NO_HOLD_LIMIT);
        replies.started();
        replies.send(reply(1), null, () -> {}, true);

        assertThat(receive(1)).containsExactly(1);
    }

    @Test
    void aReplyWaitsWhileAnotherQuickRequestIsServedAndLeavesWithItsReply() throws Exception {
        replies(NO_HOLD_LIMIT);
        AtomicInteger written = new AtomicInteger();
        replies.started();
        replies.started();
        replies.send(reply(1), null, written::incrementAndGet, true);

        assertThat(written).hasValue(1); // in the buffer: its request's buffers went back already
        assertNothingArrivesFor(Duration.ofMillis(300));

        replies.send(reply(2), null, written::incrementAndGet, true);
        assertThat(receive(2)).containsExactly(1, 2);
    }

    @Test
    void aHeldReplyLeavesAfterTheLongestHoldWhenTheRequestItWaitsForIsSlow() throws Exception {
        replies(Duration.ofMillis(50));
        replies.started();
        replies.started(); // never ends, like a read stuck on the disk
        replies.send(reply(1), null, () -> {}, true);

        assertThat(receive(1)).containsExactly(1);
    }

    @Test
    void aRequestThatEndsWithoutAReplyLetsTheHeldRepliesGo() throws Exception {
        replies(NO_HOLD_LIMIT);
        replies.started();
        replies.started();
        replies.send(reply(1), null, () -> {}, true);
        replies.ended(true);

        assertThat(receive(1)).containsExactly(1);
    }

    @Test
    void closingSendsWhatIsStillHeld() throws Exception {
        replies(NO_HOLD_LIMIT);
        replies.started();
        replies.started();
        replies.send(reply(1), null, () -> {}, true);
        replies.close();

        assertThat(receive(1)).containsExactly(1);
    }

    @Test
    void repliesLeaveOnceTheMostThatMayWaitAreHeld() throws Exception {
        replies(NO_HOLD_LIMIT);
        int inService = ReplyOutput.MAX_HELD_REPLIES + 4;
        for (int i = 0; i < inService; i++) {
            replies.started();
        }
        long[] expected = new long[ReplyOutput.MAX_HELD_REPLIES];
        for (int i = 0; i < ReplyOutput.MAX_HELD_REPLIES; i++) {
            expected[i] = i + 1;
            replies.send(reply(i + 1), null, () -> {}, true);
        }

        assertThat(receive(ReplyOutput.MAX_HELD_REPLIES)).containsExactly(expected);
    }

    @Test
    void dataTooLargeForTheBufferLeavesAtOnceWithWhatWasHeld() throws Exception {
        replies(NO_HOLD_LIMIT);
        for (int i = 0; i < 3; i++) {
            replies.started();
        }
        replies.send(reply(1), null, () -> {}, true);
        byte[] data = new byte[1024 * 1024];
        data[data.length - 1] = 7;
        replies.send(reply(2), ByteBuffer.wrap(data), () -> {}, true);

        assertThat(receive(2)).containsExactly(1, 2);
        byte[] received = new byte[data.length];
        fromServer.readFully(received);
        assertThat(received[data.length - 1]).isEqualTo((byte) 7);
    }

    @Test
    void aLargeReplyWaitsToBeWrittenByItsOwnThreadWhileASmallOneIsLeftToTheWriter() throws Exception {
        replies(NO_HOLD_LIMIT);
        // The client reads nothing yet, so the first large reply blocks its writer in the socket write.
        byte[] blocking = new byte[32 * 1024 * 1024];
        Thread first = Thread.ofPlatform().start(() -> sendQuietly(1, ByteBuffer.wrap(blocking), () -> {}));
        awaitBlockedInWrite(first);
        AtomicInteger largeWritten = new AtomicInteger();
        byte[] large = new byte[1024 * 1024];
        large[large.length - 1] = 9;
        Thread second = Thread.ofPlatform().start(
                () -> sendQuietly(2, ByteBuffer.wrap(large), largeWritten::incrementAndGet));

        replies.send(reply(3), null, () -> {}, false); // returns at once: the lock's holder writes it
        second.join(300);
        assertThat(second.isAlive()).as("the large reply waits for the lock instead of being queued").isTrue();
        assertThat(largeWritten).hasValue(0);

        client.setSoTimeout(10_000);
        assertThat(receive(1)).containsExactly(1);
        fromServer.readFully(new byte[blocking.length]);
        assertThat(receive(1)).as("queued while the first was written: its writer sends it before letting go")
                .containsExactly(3);
        assertThat(receive(1)).containsExactly(2);
        byte[] received = new byte[large.length];
        fromServer.readFully(received);
        assertThat(received[large.length - 1]).isEqualTo((byte) 9);
        second.join(10_000);
        assertThat(second.isAlive()).isFalse();
        assertThat(largeWritten).hasValue(1);
        first.join(10_000);
    }

    private void sendQuietly(long cookie, ByteBuffer data, Runnable written) {
        try {
            replies.send(reply(cookie), data, written, false);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Gives the writer half a second and checks it is still writing: with the client reading
     * nothing, it stays in the socket write (holding the reply lock) until the client reads.
     */
    private static void awaitBlockedInWrite(Thread writer) throws InterruptedException {
        writer.join(500);
        assertThat(writer.isAlive()).as("32 MiB unread by the client cannot all fit in the socket's buffers").isTrue();
    }

    @Test
    void onlySmallRequestsThatNeedNoSyncAreQuick() {
        assertThat(ReplyOutput.isQuick(request(NbdProtocol.CMD_WRITE, 0, 4096))).isTrue();
        assertThat(ReplyOutput.isQuick(request(NbdProtocol.CMD_READ, 0, ReplyOutput.QUICK_BYTES_MAX))).isTrue();
        assertThat(ReplyOutput.isQuick(request(NbdProtocol.CMD_READ, 0, 1024 * 1024))).isFalse();
        assertThat(ReplyOutput.isQuick(request(NbdProtocol.CMD_WRITE, NbdProtocol.CMD_FLAG_FUA, 4096))).isFalse();
        assertThat(ReplyOutput.isQuick(request(NbdProtocol.CMD_FLUSH, 0, 0))).isFalse();
    }

    private static NbdRequest request(int type, int flags, long length) {
        return new NbdRequest(flags, type, 1, 0, length);
    }
}
