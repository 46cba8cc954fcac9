package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.store.ObjectStore;
import herd.block.volume.VolumeDevice;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Protocol corners the real clients never reach, over a real socket and a real store. */
class NbdProtocolTest {
    private static final long MIB = 1024 * 1024;
    private static final long EXPORT_BYTES = 16 * MIB;

    @TempDir
    static Path directory;

    private static ObjectStore store;
    private static NbdServer server;
    private static ExportResolver resolver;
    /** How often the resolver was asked for a device for I/O, and how often only about an export. */
    private static final AtomicInteger resolvedForIo = new AtomicInteger();
    private static final AtomicInteger inspected = new AtomicInteger();

    @BeforeAll
    static void startServer() throws IOException {
        store = ObjectStore.open(directory, 256 * MIB);
        MapExportResolver exports = new MapExportResolver(Map.of(
                "vol", new VolumeDevice("vol", EXPORT_BYTES, 1, store),
                "ro", new VolumeDevice("ro", EXPORT_BYTES, 2, store, true)));
        resolver = new ExportResolver() {
            @Override
            public ExportResolution resolve(String exportName) {
                resolvedForIo.incrementAndGet();
                return exportName.equals("moved") ? new ExportResolution.Refused("attached on node n2")
                        : exports.resolve(exportName);
            }

            @Override
            public ExportResolution inspect(String exportName) {
                inspected.incrementAndGet();
                return exportName.equals("moved") ? new ExportResolution.Refused("attached on node n2")
                        : exports.inspect(exportName);
            }

            @Override
            public List<String> exportNames() {
                return exports.exportNames();
            }
        };
        server = new NbdServer(new InetSocketAddress("127.0.0.1", 0), resolver);
        server.start();
    }

    @AfterAll
    static void stopServer() throws IOException {
        server.close();
        store.close();
    }

    private static RawNbdClient connect(String export, boolean structured) throws IOException {
        RawNbdClient client = new RawNbdClient(server.localAddress());
        if (structured) {
            client.negotiateStructuredReplies();
        }
        assertThat(client.go(export)).isNull();
        return client;
    }

    @Test
    void pipelinedRequestsAllGetTheirReplies() throws IOException {
        int requests = 48;
        try (RawNbdClient client = connect("vol", false)) {
            for (int i = 0; i < requests; i++) {
                byte[] data = new byte[8192];
                Arrays.fill(data, (byte) i);
                client.sendRequest(0, NbdProtocol.CMD_WRITE, 1000 + i, i * 8192L, data.length, data);
            }
            Set<Long> written = new HashSet<>();
            for (int i = 0; i < requests; i++) {
                RawNbdClient.Reply reply = client.readReply(cookie -> 0);
                assertThat(reply.error()).isZero();
                written.add(reply.cookie());
            }
            assertThat(written).hasSize(requests);

            for (int i = 0; i < requests; i++) {
                client.sendRequest(0, NbdProtocol.CMD_READ, 2000 + i, i * 8192L, 8192, null);
            }
            Map<Long, byte[]> read = new HashMap<>();
            for (int i = 0; i < requests; i++) {
                RawNbdClient.Reply reply = client.readReply(cookie -> 8192);
                read.put(reply.cookie(), reply.payload());
            }
            for (int i = 0; i < requests; i++) {
                byte[] expected = new byte[8192];
                Arrays.fill(expected, (byte) i);
                assertThat(read.get(2000L + i)).isEqualTo(expected);
            }
        }
    }

    @Test
    void rangesBeyondTheEndAreRefusedAndTheConnectionGoesOn() throws IOException {
        try (RawNbdClient client = connect("vol", false)) {
            client.sendRequest(0, NbdProtocol.CMD_READ, 1, EXPORT_BYTES - 4096, 8192, null);
            assertThat(client.readReply(cookie -> 0).error()).isEqualTo(Errno.EINVAL.code());
            // a write's data is read and dropped; the protocol asks for ENOSPC there
            client.sendRequest(0, NbdProtocol.CMD_WRITE, 3, EXPORT_BYTES - 4096, 8192, new byte[8192]);
            assertThat(client.readReply(cookie -> 0).error()).isEqualTo(Errno.ENOSPC.code());

            client.sendRequest(0, NbdProtocol.CMD_READ, 2, EXPORT_BYTES - 4096, 4096, null);
            RawNbdClient.Reply reply = client.readReply(cookie -> 4096);
            assertThat(reply.error()).isZero();
            assertThat(reply.payload()).hasSize(4096);
        }
    }

    @Test
    void aClientLeavingInTheMiddleOfAWritesDataLeavesNoBufferTaken() throws Exception {
        // a server of its own: the shared one's buffers may have reached their budget, and heap buffers are not counted
        try (NbdServer fresh = new NbdServer(new InetSocketAddress("127.0.0.1", 0), resolver)) {
            fresh.start();
            PayloadBuffers buffers = fresh.payloadBuffers();
            try (RawNbdClient client = new RawNbdClient(fresh.localAddress())) {
                assertThat(client.go("vol")).isNull();
                client.sendRequest(0, NbdProtocol.CMD_WRITE, 1, 0, 1 << 20, new byte[4096]);
                awaitDirectBytesInUse(buffers, inUse -> inUse > 0, "the write's data waits in a buffer");
            } // and the client leaves
            awaitDirectBytesInUse(buffers, inUse -> inUse == 0, "the buffer is given back");
        }
    }

    private static void awaitDirectBytesInUse(PayloadBuffers buffers, LongPredicate expected, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!expected.test(buffers.directBytesInUse()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(buffers.directBytesInUse()).as(what).matches(expected::test);
    }

    @Test
    void structuredErrorsCarryAMessage() throws IOException {
        try (RawNbdClient client = connect("vol", true)) {
            client.sendRequest(0, NbdProtocol.CMD_READ, 7, Long.MAX_VALUE, 512, null);
            RawNbdClient.Reply reply = client.readReply(cookie -> 0);

            assertThat(reply.type()).isEqualTo(NbdProtocol.REPLY_TYPE_ERROR);
            assertThat(reply.flags() & NbdProtocol.REPLY_FLAG_DONE).isNotZero();
            assertThat(reply.structuredErrno()).isEqualTo(Errno.EINVAL.code());
            assertThat(reply.structuredMessage()).contains("beyond the end of the export");
        }
    }

    @Test
    void structuredReadsArriveAsOffsetData() throws IOException {
        try (RawNbdClient client = connect("vol", true)) {
            byte[] data = "structured".getBytes(StandardCharsets.UTF_8);
            client.sendRequest(0, NbdProtocol.CMD_WRITE, 1, 5 * MIB + 3, data.length, data);
            RawNbdClient.Reply written = client.readReply(cookie -> 0);
            assertThat(written.type()).as("a write's success is a simple reply").isEqualTo(-1);
            assertThat(written.error()).isZero();

            client.sendRequest(0, NbdProtocol.CMD_READ, 2, 5 * MIB + 3, data.length, null);
            RawNbdClient.Reply reply = client.readReply(cookie -> 0);

            assertThat(reply.type()).isEqualTo(NbdProtocol.REPLY_TYPE_OFFSET_DATA);
            assertThat(ByteBuffer.wrap(reply.payload()).getLong(0)).isEqualTo(5 * MIB + 3);
            assertThat(Arrays.copyOfRange(reply.payload(), 8, reply.payload().length)).isEqualTo(data);
        }
    }

    @Test
    void oversizedWriteIsRefusedAndItsDataSkipped() throws IOException {
        try (RawNbdClient client = connect("vol", false)) {
            int oversized = NbdProtocol.MAX_PAYLOAD_BYTES + 4096;
            client.sendRequest(0, NbdProtocol.CMD_WRITE, 1, 0, oversized, new byte[oversized]);
            assertThat(client.readReply(cookie -> 0).error()).isEqualTo(Errno.EINVAL.code());

            client.sendRequest(0, NbdProtocol.CMD_FLUSH, 2, 0, 0, null);
            RawNbdClient.Reply flushed = client.readReply(cookie -> 0);
            assertThat(flushed.cookie()).isEqualTo(2);
            assertThat(flushed.error()).isZero();
        }
    }

    @Test
    void writesToAReadOnlyExportAreEperm() throws IOException {
        try (RawNbdClient client = connect("ro", false)) {
            assertThat(client.transmissionFlags & NbdProtocol.FLAG_READ_ONLY).isNotZero();
            client.sendRequest(0, NbdProtocol.CMD_WRITE, 1, 0, 4, new byte[4]);
            client.sendRequest(0, NbdProtocol.CMD_TRIM, 2, 0, 4096, null);
            client.sendRequest(0, NbdProtocol.CMD_WRITE_ZEROES, 3, 0, 4096, null);

            for (int i = 0; i < 3; i++) {
                assertThat(client.readReply(cookie -> 0).error()).isEqualTo(Errno.EPERM.code());
            }
        }
    }

    @Test
    void badRequestMagicClosesOnlyThatConnection() throws IOException {
        try (RawNbdClient broken = connect("vol", false); RawNbdClient healthy = connect("vol", false)) {
            broken.out.writeInt(0xdeadbeef);
            broken.out.write(new byte[24]);
            broken.out.flush();
            assertThatThrownBy(() -> broken.readReply(cookie -> 0)).isInstanceOfAny(EOFException.class,
                    SocketException.class);

            healthy.sendRequest(0, NbdProtocol.CMD_READ, 9, 0, 512, null);
            assertThat(healthy.readReply(cookie -> 512).error()).isZero();
        }
    }

    @Test
    void unknownOptionsAreUnsupportedAndNegotiationContinues() throws IOException {
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) {
            client.sendOption(42, new byte[] {1, 2, 3});
            RawNbdClient.OptionReply reply = client.readOptionReply();

            assertThat(reply.type()).isEqualTo(NbdProtocol.REP_ERR_UNSUP);
            assertThat(client.go("vol")).isNull();
            assertThat(client.exportSize).isEqualTo(EXPORT_BYTES);
        }
    }

    @Test
    void infoDescribesAnExportWithoutLeavingNegotiationAndAbortIsAcknowledged() throws IOException {
        int resolvedBefore = resolvedForIo.get();
        int inspectedBefore = inspected.get();
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) {
            byte[] name = "vol".getBytes(StandardCharsets.UTF_8);
            client.sendOption(NbdProtocol.OPT_INFO, ByteBuffer.allocate(6 + name.length).putInt(name.length).put(name)
                .putShort((short) 0).array());
            long size = -1;
            RawNbdClient.OptionReply reply = client.readOptionReply();
            for (; reply.type() == NbdProtocol.REP_INFO; reply = client.readOptionReply()) {
                ByteBuffer info = ByteBuffer.wrap(reply.data());
                if (info.getShort(0) == NbdProtocol.INFO_EXPORT) {
                    size = info.getLong(2);
                }
            }
            assertThat(reply.type()).isEqualTo(NbdProtocol.REP_ACK);
            assertThat(size).isEqualTo(EXPORT_BYTES);
            // INFO only asks: a cluster's volume is not attached to this node for it
            assertThat(resolvedForIo.get()).isEqualTo(resolvedBefore);
            assertThat(inspected.get()).isEqualTo(inspectedBefore + 1);

            // still negotiating: another option is answered, then ABORT is acknowledged and the server hangs up
            client.sendOption(NbdProtocol.OPT_INFO, ByteBuffer.allocate(13).putInt(7).put("nothing".getBytes(StandardCharsets.UTF_8))
                .putShort((short) 0).array());
            assertThat(client.readOptionReply().type()).isEqualTo(NbdProtocol.REP_ERR_UNKNOWN);
            client.sendOption(NbdProtocol.OPT_ABORT, new byte[0]);
            RawNbdClient.OptionReply aborted = client.readOptionReply();
            assertThat(aborted.option()).isEqualTo(NbdProtocol.OPT_ABORT);
            assertThat(aborted.type()).isEqualTo(NbdProtocol.REP_ACK);
            assertThat(client.in.read()).as("end of stream after ABORT").isEqualTo(-1);
        }
    }

    @Test
    void refusedExportsTellWhy() throws IOException {
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) {
            RawNbdClient.OptionReply refused = client.go("moved");
            RawNbdClient.OptionReply unknown = client.go("nothing");

            assertThat(refused.type()).isEqualTo(NbdProtocol.REP_ERR_POLICY);
            assertThat(refused.text()).contains("attached on node n2");
            assertThat(unknown.type()).isEqualTo(NbdProtocol.REP_ERR_UNKNOWN);
            assertThat(unknown.text()).contains("'nothing' does not exist", "ro, vol");
        }
    }

    @Test
    void blockStatusNeedsTheMetaContext() throws IOException {
        try (RawNbdClient client = connect("vol", true)) {
            client.sendRequest(0, NbdProtocol.CMD_BLOCK_STATUS, 1, 0, 4096, null);
            RawNbdClient.Reply reply = client.readReply(cookie -> 0);

            assertThat(reply.type()).isEqualTo(NbdProtocol.REPLY_TYPE_ERROR);
            assertThat(reply.structuredErrno()).isEqualTo(Errno.EINVAL.code());
        }
    }

    @Test
    void exportNameOptionEntersTransmissionWithoutZeroPadding() throws IOException {
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) {
            client.sendOption(NbdProtocol.OPT_EXPORT_NAME, "vol".getBytes(StandardCharsets.UTF_8));
            assertThat(client.in.readLong()).isEqualTo(EXPORT_BYTES);
            assertThat(client.in.readUnsignedShort() & NbdProtocol.FLAG_CAN_MULTI_CONN).isNotZero();

            client.sendRequest(0, NbdProtocol.CMD_READ, 5, 0, 16, null);
            RawNbdClient.Reply reply = client.readReply(cookie -> 16);
            assertThat(reply.cookie()).isEqualTo(5);
            assertThat(reply.error()).isZero();
        }
    }

    @Test
    void disconnectAnswersRequestsInFlightFirst() throws IOException {
        try (RawNbdClient client = connect("vol", false)) {
            byte[] data = new byte[1024 * 1024];
            client.sendRequest(NbdProtocol.CMD_FLAG_FUA, NbdProtocol.CMD_WRITE, 77, 0, data.length, data);
            client.sendRequest(0, NbdProtocol.CMD_DISC, 78, 0, 0, null);

            RawNbdClient.Reply reply = client.readReply(cookie -> 0);
            assertThat(reply.cookie()).isEqualTo(77);
            assertThat(reply.error()).isZero();
            assertThat(client.in.read()).isEqualTo(-1);
        }
    }
}
