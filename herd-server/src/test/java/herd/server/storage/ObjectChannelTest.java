package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.Done;
import herd.block.volume.ObjectError;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The object channel's two ends over a real loopback connection, in front of copies kept in memory. */
class ObjectChannelTest {
    private static final String TOKEN = "node-token-of-this-cluster";
    private static final ObjectId OBJECT = ObjectId.of(7, 3);

    private final MemoryCopies copies = new MemoryCopies();
    private ObjectChannelServer server;
    private ObjectChannelClient client;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws IOException {
        server = new ObjectChannelServer("s2", copies, TOKEN);
        server.start(new InetSocketAddress("127.0.0.1", 0));
        address = server.localAddress();
        client = new ObjectChannelClient(TOKEN, Duration.ofSeconds(1), Duration.ofSeconds(10), 4);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void writesAndReadsBackSmallAndLargePayloads() throws IOException {
        for (int length : new int[] {1, 3, 512, 4096, 5000, 1 << 20, (1 << 20) + 1, ObjectId.OBJECT_SIZE_BYTES}) {
            byte[] data = pattern(length, length);
            assertThat(write(client, address, "s2", 5, OBJECT, 0, ByteBuffer.wrap(data))).isInstanceOf(CopyReply.Ok.class);
            ByteBuffer into = ByteBuffer.allocateDirect(length + 100).position(100);
            into.limit(100 + length);
            assertThat(client.read(address, "s2", 5, OBJECT, 0, into)).isInstanceOf(CopyReply.Ok.class);
            assertThat(into.position()).isEqualTo(100 + length); // the caller's buffer advances, as a read into it does
            byte[] back = new byte[length];
            into.position(100);
            into.get(back);
            assertThat(back).isEqualTo(data);
        }
        assertThat(copies.lastEpoch).isEqualTo(5);
    }

    @Test
    void writesAtAnOffsetAndSendsTheFlushedIds() throws IOException {
        write(client, address, "s2", 1, OBJECT, 8192, ByteBuffer.wrap(pattern(4096, 9)));
        ByteBuffer into = ByteBuffer.allocate(4096);
        client.read(address, "s2", 1, OBJECT, 8192, into);
        assertThat(into.array()).isEqualTo(pattern(4096, 9));
        List<ObjectId> ids = List.of(OBJECT, ObjectId.of(7, 4), ObjectId.of(8, 0));
        assertThat(client.flush(address, "s2", ids)).isInstanceOf(CopyReply.Ok.class);
        assertThat(copies.flushed).isEqualTo(ids);
    }

    @Test
    void requestsSentTogetherGetTheirOwnReplies() throws IOException {
        ObjectChannelClient.Sent first = client.sendWrite(address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(pattern(4096, 1)));
        ObjectChannelClient.Sent second = client.sendWrite(address, "s2", 1, OBJECT, 4096, ByteBuffer.wrap(pattern(4096, 2)));
        ObjectChannelClient.Sent flush = client.sendFlush(address, "s2", List.of(OBJECT));
        assertThat(client.receive(second)).isInstanceOf(CopyReply.Ok.class);
        assertThat(client.receive(flush)).isInstanceOf(CopyReply.Ok.class);
        assertThat(client.receive(first)).isInstanceOf(CopyReply.Ok.class);
        ByteBuffer into = ByteBuffer.allocate(8192);
        client.read(address, "s2", 1, OBJECT, 0, into);
        assertThat(java.util.Arrays.copyOfRange(into.array(), 0, 4096)).isEqualTo(pattern(4096, 1));
        assertThat(java.util.Arrays.copyOfRange(into.array(), 4096, 8192)).isEqualTo(pattern(4096, 2));
        assertThat(copies.flushed).containsExactly(OBJECT);
    }

    @Test
    void everyErrorOfACopyComesBackAsItWas() throws IOException {
        ByteBuffer into = ByteBuffer.allocate(4096);
        assertThat(client.read(address, "s2", 1, ObjectId.of(9, 9), 0, into))
            .isEqualTo(new CopyReply.Failed<Done>(new ObjectError.NotFound(ObjectId.of(9, 9))));
        assertThat(into.position()).isZero(); // nothing read, nothing advanced

        copies.nextError = new CopyReply.Failed<>(new ObjectError.Corrupt(OBJECT, 17));
        assertThat(client.read(address, "s2", 1, OBJECT, 0, into))
            .isEqualTo(new CopyReply.Failed<Done>(new ObjectError.Corrupt(OBJECT, 17)));
        copies.nextError = new CopyReply.Failed<>(new ObjectError.NoSpace(4096, 12));
        assertThat(write(client, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096])))
            .isEqualTo(new CopyReply.Failed<Done>(new ObjectError.NoSpace(4096, 12)));
        copies.nextError = CopyReply.retry("epoch 3 is over");
        assertThat(write(client, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096])))
            .isInstanceOfSatisfying(CopyReply.Retry.class, retry -> assertThat(retry.reason()).contains("epoch 3 is over"));
        copies.nextError = new CopyReply.Failed<>(new ObjectError.IoFailure(OBJECT, "disk says EIO"));
        assertThat(client.flush(address, "s2", List.of(OBJECT)))
            .isInstanceOfSatisfying(CopyReply.Failed.class, failed -> assertThat(failed.error().describe()).contains("EIO"));
        // and the connection still serves the next call
        assertThat(write(client, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096]))).isInstanceOf(CopyReply.Ok.class);
    }

    @Test
    void aCallerWithoutTheNodeTokenIsRefused() {
        try (ObjectChannelClient stranger = new ObjectChannelClient("another-cluster", Duration.ofSeconds(1),
                Duration.ofSeconds(10), 4)) {
            assertThatThrownBy(() -> write(stranger, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096])))
                .isInstanceOf(IOException.class).hasMessageContaining("wrong node token");
        }
        assertThat(copies.writes).isZero();
    }

    @Test
    void aConnectionThatSaysNoHelloIsClosed() throws IOException {
        try (ObjectChannelServer strict = new ObjectChannelServer("s3", copies, TOKEN, Duration.ofMillis(200))) {
            strict.start(new InetSocketAddress("127.0.0.1", 0));
            try (SocketChannel silent = SocketChannel.open(strict.localAddress())) {
                long start = System.nanoTime();
                assertThat(silent.read(ByteBuffer.allocate(1))).isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            }
            // a caller that says hello in time is served as before
            assertThat(write(client, strict.localAddress(), "s3", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096])))
                .isInstanceOf(CopyReply.Ok.class);
        }
    }

    @Test
    void aNodeThatDoesNotAnswerInTimeEndsTheCallWithAnError() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        copies.stall = release;
        try (ObjectChannelClient impatient = new ObjectChannelClient(TOKEN, Duration.ofSeconds(1), Duration.ofMillis(300), 4)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> write(impatient, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096])))
                .isInstanceOf(ObjectChannelClient.NoAnswer.class).hasMessageContaining("did not answer within");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        } finally {
            release.countDown();
        }
    }

    @Test
    void aReplyThatCameInTimeWhileTheCallerWaitedForAnotherNodesIsRead() throws Exception {
        MemoryCopies quickCopies = new MemoryCopies();
        CountDownLatch release = new CountDownLatch(1);
        copies.stall = release;
        try (ObjectChannelServer quick = new ObjectChannelServer("s3", quickCopies, TOKEN);
             ObjectChannelClient impatient = new ObjectChannelClient(TOKEN, Duration.ofSeconds(1), Duration.ofMillis(300), 4)) {
            quick.start(new InetSocketAddress("127.0.0.1", 0));
            ObjectChannelClient.Sent toSlow = impatient.sendWrite(address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(new byte[4096]));
            ObjectChannelClient.Sent toQuick = impatient.sendWrite(quick.localAddress(), "s3", 1, OBJECT, 0,
                ByteBuffer.wrap(pattern(4096, 3)));
            assertThatThrownBy(() -> impatient.receive(toSlow)).isInstanceOf(ObjectChannelClient.NoAnswer.class)
                .hasMessageContaining("node s2");
            assertThat(impatient.receive(toQuick)).as("s3 answered at once; its reply waited to be read")
                .isInstanceOf(CopyReply.Ok.class);
            assertThat(quickCopies.writes).isEqualTo(1);
        } finally {
            release.countDown();
        }
    }

    @Test
    void aCallOfAnEpochThatEndedIsEndedAfterASecondInsteadOfTheCallTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        copies.stall = release;
        try {
            long start = System.nanoTime(); // before the call starts: it is ended a second after its start at the earliest
            ObjectChannelClient.Sent ofEpoch3 = client.sendWrite(address, "s2", 3, OBJECT, 0, ByteBuffer.wrap(new byte[4096]));
            ObjectChannelClient.Sent flush = client.sendFlush(address, "s2", List.of(OBJECT));
            client.epochBegan(4);
            assertThatThrownBy(() -> client.receive(ofEpoch3)).isInstanceOf(ObjectChannelClient.NoAnswer.class)
                .hasMessageContaining("node s2 had not answered a call of storage epoch 3");
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(waited).as("the call timeout is 10 s").isLessThan(Duration.ofSeconds(5))
                .isGreaterThanOrEqualTo(Duration.ofMillis(ObjectChannelClient.ENDED_EPOCH_GRACE_MILLIS));
            release.countDown();
            assertThat(client.receive(flush)).as("a flush names no epoch and is not ended").isInstanceOf(CopyReply.Ok.class);
            copies.stall = null;
            assertThat(write(client, address, "s2", 4, OBJECT, 0, ByteBuffer.wrap(new byte[4096])))
                .as("a call of the new epoch").isInstanceOf(CopyReply.Ok.class);
        } finally {
            release.countDown();
        }
    }

    @Test
    void aNodeThatTakesNoConnectionInTimeIsAnIoException() throws Exception {
        try (java.nio.channels.ServerSocketChannel mute = java.nio.channels.ServerSocketChannel.open();
             ObjectChannelClient impatient = new ObjectChannelClient(TOKEN, Duration.ofMillis(300), Duration.ofSeconds(10), 4)) {
            mute.bind(new InetSocketAddress("127.0.0.1", 0)); // the kernel completes connections; nobody says welcome
            long start = System.nanoTime();
            assertThatThrownBy(() -> write(impatient, (InetSocketAddress) mute.getLocalAddress(), "s4", 1, OBJECT, 0,
                ByteBuffer.wrap(new byte[4096]))).isInstanceOf(IOException.class).hasMessageContaining("did not take a connection")
                .as("no request was sent").isNotInstanceOf(ObjectChannelClient.NoAnswer.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPingIsARoundTripToTheNodeThatFailsWhenItDoesNotAnswer() throws Exception {
        assertThat(client.ping(address, "s2")).isInstanceOf(CopyReply.Ok.class);
        assertThat(copies.flushes).as("the node's channel server was asked").isEqualTo(1);
        assertThat(copies.flushed).as("and flushed nothing").isEmpty();

        CountDownLatch release = new CountDownLatch(1);
        copies.stall = release;
        try (ObjectChannelClient impatient = new ObjectChannelClient(TOKEN, Duration.ofSeconds(1), Duration.ofMillis(300), 4)) {
            assertThatThrownBy(() -> impatient.ping(address, "s2")).isInstanceOf(ObjectChannelClient.NoAnswer.class);
        } finally {
            release.countDown();
        }
        server.close();
        assertThatThrownBy(() -> client.ping(address, "s2")).isInstanceOf(IOException.class);
    }

    @Test
    void aRestartedNodeIsReachedOnANewConnection() throws IOException {
        write(client, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(pattern(4096, 1)));
        server.close(); // the pooled connection is now closed on the node's side
        server = new ObjectChannelServer("s2", copies, TOKEN);
        server.start(address);
        assertThat(write(client, address, "s2", 1, OBJECT, 0, ByteBuffer.wrap(pattern(4096, 2)))).isInstanceOf(CopyReply.Ok.class);
        ByteBuffer into = ByteBuffer.allocate(4096);
        client.read(address, "s2", 1, OBJECT, 0, into);
        assertThat(into.array()).isEqualTo(pattern(4096, 2));
    }

    @Test
    void anUnreachableNodeIsAnIoException() throws IOException {
        server.close();
        assertThatThrownBy(() -> client.read(address, "s2", 1, OBJECT, 0, ByteBuffer.allocate(4096)))
            .isInstanceOf(IOException.class);
    }

    @Test
    void aRequestOutsideTheObjectIsRefusedAndTheConnectionClosed() throws IOException {
        try (SocketChannel raw = SocketChannel.open(address)) {
            ObjectChannel.writeFully(raw, ObjectChannel.hello(TOKEN));
            ObjectChannel.readFully(raw, ByteBuffer.allocate(ObjectChannel.REPLY_HEADER_BYTES));
            ByteBuffer header = ByteBuffer.allocate(ObjectChannel.REQUEST_HEADER_BYTES);
            ObjectChannel.putRequest(header, ObjectChannel.OP_READ, 1, OBJECT, ObjectId.OBJECT_SIZE_BYTES - 10, 4096);
            ObjectChannel.writeFully(raw, header);
            ByteBuffer reply = ByteBuffer.allocate(ObjectChannel.REPLY_HEADER_BYTES);
            ObjectChannel.readFully(raw, reply);
            assertThat(reply.flip().get()).isEqualTo(ObjectChannel.STATUS_ERROR);
            ByteBuffer body = ByteBuffer.allocate(reply.getInt());
            ObjectChannel.readFully(raw, body);
            assertThat(ObjectChannel.readErrorBody(body.flip()).message()).contains("does not fit in one object");
            assertThat(raw.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        }
        assertThat(copies.reads).isZero();
    }

    @Test
    void aConnectionAVirtualThreadUsedIsNotKeptForLaterCalls() throws Exception {
        byte[] data = pattern(4096, 11);
        assertThat(write(client, address, "s2", 5, OBJECT, 0, ByteBuffer.wrap(data))).isInstanceOf(CopyReply.Ok.class);
        assertThat(client.idleConnections(address)).isEqualTo(1);

        // The virtual thread takes the idle connection, which its I/O switches to non-blocking mode.
        AtomicReference<CopyReply<Done>> reply = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                reply.set(write(client, address, "s2", 5, OBJECT, 4096, ByteBuffer.wrap(data)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).join();
        assertThat(reply.get()).isInstanceOf(CopyReply.Ok.class);
        assertThat(client.idleConnections(address)).isZero();

        ByteBuffer into = ByteBuffer.allocate(4096);
        assertThat(client.read(address, "s2", 5, OBJECT, 4096, into)).isInstanceOf(CopyReply.Ok.class);
        assertThat(into.array()).isEqualTo(data);
        assertThat(client.idleConnections(address)).isEqualTo(1);
    }

    /** A write made in one go: sent, then its reply read. */
    private static CopyReply<Done> write(ObjectChannelClient caller, InetSocketAddress to, String node, long epoch, ObjectId id,
                                         int offset, ByteBuffer source) throws IOException {
        return caller.receive(caller.sendWrite(to, node, epoch, id, offset, source));
    }

    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return bytes;
    }

    /** Copies in memory; an error or a stall can be set for the next call. */
    private static final class MemoryCopies implements ObjectChannelServer.Copies {
        final Map<ObjectId, byte[]> objects = new ConcurrentHashMap<>();
        final List<ObjectId> flushed = new ArrayList<>();
        volatile CopyReply<Done> nextError;
        volatile CountDownLatch stall;
        volatile long lastEpoch;
        volatile int reads;
        volatile int writes;
        volatile int flushes;

        @Override
        public CopyReply<Done> read(long epoch, ObjectId id, int offset, ByteBuffer destination) {
            reads++;
            lastEpoch = epoch;
            CopyReply<Done> error = takeError();
            if (error != null) {
                return error;
            }
            byte[] object = objects.get(id);
            if (object == null) {
                return new CopyReply.Failed<>(new ObjectError.NotFound(id));
            }
            destination.put(object, offset, destination.remaining());
            return new CopyReply.Ok<>(Done.DONE);
        }

        @Override
        public CopyReply<Done> write(long epoch, ObjectId id, int offset, ByteBuffer source) {
            writes++;
            lastEpoch = epoch;
            awaitStall();
            CopyReply<Done> error = takeError();
            if (error != null) {
                return error;
            }
            source.get(objects.computeIfAbsent(id, i -> new byte[ObjectId.OBJECT_SIZE_BYTES]), offset, source.remaining());
            return new CopyReply.Ok<>(Done.DONE);
        }

        @Override
        public CopyReply<Done> flush(Collection<ObjectId> ids) {
            flushes++;
            awaitStall();
            CopyReply<Done> error = takeError();
            if (error != null) {
                return error;
            }
            flushed.addAll(ids);
            return new CopyReply.Ok<>(Done.DONE);
        }

        private CopyReply<Done> takeError() {
            CopyReply<Done> error = nextError;
            nextError = null;
            return error;
        }

        private void awaitStall() {
            CountDownLatch latch = stall;
            if (latch != null) {
                try {
                    latch.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
