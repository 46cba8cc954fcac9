package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.Done;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a connection's workers share its requests: a request that waits holds up only itself, and a
 * client that waits for each reply and syncs, or streams large reads served fast, is served by one thread.
 */
class NbdConnectionWorkersTest {
    private static final long EXPORT_BYTES = 1 << 20;
    private static final int WAIT_SECONDS = 10;

    private NbdServer server;

    @AfterEach
    void stopServer() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aReadWaitingForTheDiskDoesNotHoldUpTheRequestsBehindIt() throws IOException {
        CountDownLatch writeServed = new CountDownLatch(1);
        // A read at offset 0 waits until the write sent after it has been served.
        startServer(new TestDevice() {
            @Override
            public DeviceResult<Done> read(long offset, ByteBuffer destination) {
                if (offset == 0 && !await(writeServed)) {
                    return DeviceResult.failed(Errno.EIO, "the write behind this read was not served");
                }
                return super.read(offset, destination);
            }

            @Override
            public DeviceResult<Done> write(long offset, ByteBuffer source, boolean fua) {
                writeServed.countDown();
                return super.write(offset, source, fua);
            }
        });
        try (RawNbdClient client = connect()) {
            client.sendRequest(0, NbdProtocol.CMD_READ, 1, 0, 4096, null);
            client.sendRequest(0, NbdProtocol.CMD_WRITE, 2, 8192, 4096, new byte[4096]);

            Map<Long, Integer> errorByCookie = new HashMap<>();
            for (int reply = 0; reply < 2; reply++) {
                RawNbdClient.Reply answer = client.readReply(cookie -> cookie == 1 ? 4096 : 0);
                errorByCookie.put(answer.cookie(), answer.error());
            }

            // The read succeeds only if the write was served while the read waited.
            assertThat(errorByCookie).isEqualTo(Map.of(1L, 0, 2L, 0));
        }
    }

    @Test
    void aConnectionServesAsManyRequestsAtOnceAsItHasWorkers() throws IOException {
        // Every read waits at the barrier: they all complete only if all are served at the same time.
        CyclicBarrier allInFlight = new CyclicBarrier(NbdConnection.MAX_WORKERS);
        startServer(new TestDevice() {
            @Override
            public DeviceResult<Done> read(long offset, ByteBuffer destination) {
                try {
                    allInFlight.await(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                    return DeviceResult.failed(Errno.EIO, "fewer reads than workers were served at once: " + e);
                }
                return super.read(offset, destination);
            }
        });
        try (RawNbdClient client = connect()) {
            for (int request = 0; request < NbdConnection.MAX_WORKERS; request++) {
                client.sendRequest(0, NbdProtocol.CMD_READ, request, request * 4096L, 4096, null);
            }
            List<Integer> errors = new ArrayList<>();
            for (int request = 0; request < NbdConnection.MAX_WORKERS; request++) {
                errors.add(client.readReply(cookie -> 4096).error());
            }

            assertThat(errors).containsOnly(0);
        }
    }

    @Test
    void aReplyTheClientIsNotReadingYetDoesNotHoldUpTheRequestsBehindIt() throws IOException, InterruptedException {
        // More writes than a connection has workers, sent once a read's reply has begun to arrive,
        // a reply that cannot leave until the client reads (32 MiB against a receive buffer of
        // 64 KiB): a worker that waited for that reply to leave before going back to the input
        // would leave no worker to read the last writes.
        int writes = 2 * NbdConnection.MAX_WORKERS;
        CountDownLatch allWritesServed = new CountDownLatch(writes);
        startServer(new TestDevice() {
            @Override
            public long sizeBytes() {
                return NbdProtocol.MAX_PAYLOAD_BYTES;
            }

            @Override
            public DeviceResult<Done> write(long offset, ByteBuffer source, boolean fua) {
                allWritesServed.countDown();
                return super.write(offset, source, fua);
            }
        });
        try (RawNbdClient client = connect(64 * 1024)) {
            client.sendRequest(0, NbdProtocol.CMD_READ, 0, 0, NbdProtocol.MAX_PAYLOAD_BYTES, null);
            awaitReplyArriving(client); // its writer now holds the reply lock until the client reads
            for (int write = 1; write <= writes; write++) {
                client.sendRequest(0, NbdProtocol.CMD_WRITE, write, 0, 4096, new byte[4096]);
            }

            boolean served = allWritesServed.await(WAIT_SECONDS, TimeUnit.SECONDS);

            List<Integer> errors = new ArrayList<>();
            for (int reply = 0; reply <= writes; reply++) {
                errors.add(client.readReply(cookie -> cookie == 0 ? NbdProtocol.MAX_PAYLOAD_BYTES : 0).error());
            }
            assertThat(served).as("every write served while the read's reply waited for the client").isTrue();
            assertThat(errors).containsOnly(0);
        }
    }

    @Test
    void aClientThatWaitsForEachReplyAndSyncsIsServedByOneThread() throws IOException {
        // Each flush takes 2 ms: a worker that handed the input on before serving it would find
        // the next request read by the worker that took the input meanwhile.
        ThreadRecordingDevice device = new ThreadRecordingDevice(0, 2);
        startServer(device);
        List<String> servingThreads = device.servingThreads;
        try (RawNbdClient client = connect()) {
            int pairs = 20;
            for (int pair = 0; pair < pairs; pair++) {
                client.sendRequest(0, NbdProtocol.CMD_WRITE, 2 * pair, pair * 4096L, 4096, new byte[4096]);
                assertThat(client.readReply(cookie -> 0).error()).isZero();
                client.sendRequest(0, NbdProtocol.CMD_FLUSH, 2 * pair + 1, 0, 0, null);
                assertThat(client.readReply(cookie -> 0).error()).isZero();
            }

            // The first write comes before any sync; from the first flush on, one thread serves all.
            assertThat(servingThreads).hasSize(2 * pairs);
            assertThat(Set.copyOf(servingThreads.subList(1, servingThreads.size()))).hasSize(1);
        }
    }

    @Test
    void aClientThatStopsSyncingHasTheInputHandedOnAgain() throws IOException {
        // One flush, then writes one at a time, each taking 2 ms: the input is kept for the flush
        // and the 8 requests after it, then handed on before each write, so the worker that took
        // it meanwhile reads the next one.
        ThreadRecordingDevice device = new ThreadRecordingDevice(2, 0);
        startServer(device);
        List<String> servingThreads = device.servingThreads;
        try (RawNbdClient client = connect()) {
            client.sendRequest(0, NbdProtocol.CMD_FLUSH, 0, 0, 0, null);
            assertThat(client.readReply(cookie -> 0).error()).isZero();
            int writes = 20;
            for (int write = 1; write <= writes; write++) {
                client.sendRequest(0, NbdProtocol.CMD_WRITE, write, write * 4096L, 4096, new byte[4096]);
                assertThat(client.readReply(cookie -> 0).error()).isZero();
            }

            int kept = 1 + NbdConnection.SYNCED_WITHIN_REQUESTS;
            assertThat(servingThreads).hasSize(1 + writes);
            assertThat(Set.copyOf(servingThreads.subList(0, kept))).hasSize(1);
            assertThat(Set.copyOf(servingThreads.subList(kept, servingThreads.size()))).hasSizeGreaterThan(1);
        }
    }

    @Test
    void aRequestSentTogetherWithAFlushIsServedWhileTheFlushWaits() throws IOException {
        // A client that syncs sends a flush and a read at once: the flush completes only once the
        // read behind it has been served, so the worker serving the flush must not keep the input.
        CountDownLatch readServed = new CountDownLatch(1);
        AtomicInteger flushes = new AtomicInteger();
        startServer(new TestDevice() {
            @Override
            public DeviceResult<Done> read(long offset, ByteBuffer destination) {
                readServed.countDown();
                return super.read(offset, destination);
            }

            @Override
            public DeviceResult<Done> flush() {
                if (flushes.incrementAndGet() == 2 && !await(readServed)) {
                    return DeviceResult.failed(Errno.EIO, "the read sent with this flush was not served");
                }
                return super.flush();
            }
        });
        try (RawNbdClient client = connect()) {
            client.sendRequest(0, NbdProtocol.CMD_FLUSH, 1, 0, 0, null); // the client has synced
            assertThat(client.readReply(cookie -> 0).error()).isZero();

            client.queueRequest(0, NbdProtocol.CMD_FLUSH, 2, 0, 0, null);
            client.queueRequest(0, NbdProtocol.CMD_READ, 3, 0, 4096, null);
            client.out.flush();

            Map<Long, Integer> errorByCookie = new HashMap<>();
            for (int reply = 0; reply < 2; reply++) {
                RawNbdClient.Reply answer = client.readReply(cookie -> cookie == 3 ? 4096 : 0);
                errorByCookie.put(answer.cookie(), answer.error());
            }
            assertThat(errorByCookie).isEqualTo(Map.of(2L, 0, 3L, 0));
        }
    }

    @Test
    void aClientStreamingLargeReadsIsServedByAPairOfThreadsWhileTheyAreFast() throws Exception {
        // The device gives each read's data at once; the client takes a millisecond over each reply.
        // The workers the first reads started retire after one more read each; from the middle of
        // the stream on only the pair serves. (Which of the two takes each read is the scheduler's
        // choice: on a busy machine one may serve them all while the other waits for its turn.)
        Map<Integer, String> threadByRead = streamReads(64, 1 << 20, read -> 0, 1);

        Map<String, Long> readsByThread = readsByThread(threadByRead, 32);
        assertThat(readsByThread).as("reads served by each thread").hasSizeLessThanOrEqualTo(NbdConnection.STREAMING_WORKERS);
    }

    @Test
    void slowLargeReadsAreServedInParallelAgain() throws Exception {
        // Each read gives its data slower than a streamed read may (128 KiB in 0.5 ms: 250 MiB/s): once
        // half of the last reads were slow the streaming ends, and the reads are handed on to as many
        // workers as the client keeps busy, until the next run of large reads starts it again. The
        // workers started before the first streaming have retired by the second run.
        Map<Integer, String> threadByRead = streamReads(40, 128 * 1024, read -> 500_000, 0);

        Map<String, Long> readsByThread = readsByThread(threadByRead, 2 * NbdConnection.STREAMING_AFTER_LARGE_READS);
        assertThat(readsByThread).as("reads served by each thread").hasSizeGreaterThan(NbdConnection.STREAMING_WORKERS);
    }

    @Test
    void anOccasionalSlowReadDoesNotEndTheStreaming() throws Exception {
        // Read 36 of the stream takes 3 ms over its 1 MiB (333 MiB/s), as a read does when the kernel's
        // readahead fell behind; the others come at once. The pair goes on serving: no worker is
        // started for the reads after it.
        Map<Integer, String> threadByRead = streamReads(64, 1 << 20, read -> read == 36 ? 3_000_000 : 0, 1);

        Map<String, Long> readsByThread = readsByThread(threadByRead, 32);
        assertThat(readsByThread).as("reads served by each thread").hasSizeLessThanOrEqualTo(NbdConnection.STREAMING_WORKERS);
    }

    /**
     * Sends {@code reads} reads of {@code readBytes} in order, all at once, from a device that takes
     * {@code readNanos} (of the read's place in the stream) over each, while another thread reads the replies, pausing
     * {@code replyPauseMillis} before each. Returns the thread that served each read, by its place
     * in the stream.
     */
    private Map<Integer, String> streamReads(int reads, int readBytes, IntToLongFunction readNanos, long replyPauseMillis)
            throws Exception {
        Map<Integer, String> threadByRead = new ConcurrentHashMap<>();
        startServer(new TestDevice() {
            @Override
            public long sizeBytes() {
                return (long) reads * readBytes;
            }

            @Override
            public DeviceResult<Done> read(long offset, ByteBuffer destination) {
                int read = (int) (offset / readBytes);
                threadByRead.put(read, Thread.currentThread().getName());
                long until = System.nanoTime() + readNanos.applyAsLong(read);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait(); // a read from the page cache keeps its core busy
                }
                return super.read(offset, destination);
            }
        });
        ExecutorService replyReader = Executors.newSingleThreadExecutor();
        try (RawNbdClient client = connect()) {
            Future<List<Integer>> errors = replyReader.submit(() -> {
                List<Integer> replyErrors = new ArrayList<>();
                for (int reply = 0; reply < reads; reply++) {
                    sleepMillis(replyPauseMillis);
                    replyErrors.add(client.readReply(cookie -> readBytes).error());
                }
                return replyErrors;
            });
            for (int read = 0; read < reads; read++) {
                client.queueRequest(0, NbdProtocol.CMD_READ, read, (long) read * readBytes, readBytes, null);
            }
            client.out.flush();
            assertThat(errors.get(WAIT_SECONDS, TimeUnit.SECONDS)).hasSize(reads).containsOnly(0);
        } finally {
            replyReader.shutdownNow();
        }
        assertThat(threadByRead).hasSize(reads);
        return threadByRead;
    }

    /** How many reads from place {@code from} on each thread served. */
    private static Map<String, Long> readsByThread(Map<Integer, String> threadByRead, int from) {
        Map<String, Long> counts = new TreeMap<>();
        threadByRead.forEach((read, thread) -> {
            if (read >= from) {
                counts.merge(thread, 1L, Long::sum);
            }
        });
        return counts;
    }

    private static void sleepMillis(long millis) {
        if (millis == 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitReplyArriving(RawNbdClient client) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (client.in.available() == 0) {
            assertThat(System.nanoTime()).as("the read's reply began to arrive").isLessThan(deadline);
            Thread.sleep(1);
        }
    }

    private void startServer(BlockDevice device) throws IOException {
        server = new NbdServer(new InetSocketAddress("127.0.0.1", 0), new MapExportResolver(Map.of("vol", device)));
        server.start();
    }

    private RawNbdClient connect() throws IOException {
        return connect(0);
    }

    private RawNbdClient connect(int receiveBufferBytes) throws IOException {
        RawNbdClient client = new RawNbdClient(server.localAddress(), receiveBufferBytes);
        assertThat(client.go("vol")).isNull();
        return client;
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A {@link TestDevice} that notes the thread serving each write and flush, and takes the given time over each. */
    private static final class ThreadRecordingDevice extends TestDevice {
        final List<String> servingThreads = Collections.synchronizedList(new ArrayList<>());
        private final long writeMillis;
        private final long flushMillis;

        ThreadRecordingDevice(long writeMillis, long flushMillis) {
            this.writeMillis = writeMillis;
            this.flushMillis = flushMillis;
        }

        @Override
        public DeviceResult<Done> write(long offset, ByteBuffer source, boolean fua) {
            servingThreads.add(Thread.currentThread().getName());
            sleepMillis(writeMillis);
            return super.write(offset, source, fua);
        }

        @Override
        public DeviceResult<Done> flush() {
            servingThreads.add(Thread.currentThread().getName());
            sleepMillis(flushMillis);
            return super.flush();
        }
    }

    /** A device of zeros that accepts every write and keeps nothing. */
    private static class TestDevice implements BlockDevice {
        @Override
        public long sizeBytes() {
            return EXPORT_BYTES;
        }

        @Override
        public boolean readOnly() {
            return false;
        }

        @Override
        public DeviceResult<Done> read(long offset, ByteBuffer destination) {
            destination.position(destination.limit());
            return DeviceResult.done();
        }

        @Override
        public DeviceResult<Done> write(long offset, ByteBuffer source, boolean fua) {
            source.position(source.limit());
            return DeviceResult.done();
        }

        @Override
        public DeviceResult<Done> flush() {
            return DeviceResult.done();
        }

        @Override
        public DeviceResult<Done> trim(long offset, long length, boolean fua) {
            return DeviceResult.done();
        }

        @Override
        public DeviceResult<Done> writeZeroes(long offset, long length, boolean noHole, boolean fua) {
            return DeviceResult.done();
        }

        @Override
        public DeviceResult<List<Extent>> blockStatus(long offset, long length, int maxExtents) {
            return DeviceResult.ok(List.of(new Extent(length, false, false)));
        }
    }
}
