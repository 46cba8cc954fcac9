import herd.block.nbd.BlockDevice;
import herd.block.nbd.DeviceResult;
import herd.block.store.ObjectStore;
import herd.block.volume.VolumeDevice;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The least an NBD server in Java can be, for the benchmark of herd's layers (bench/storage/layers/run):
 * how fast the JVM serves fio with nbdkit's thread model, and how fast herd's volume device and
 * object store serve under it. Not a server to use: one export, no checks of the client's requests,
 * no FUA, no trim; what fio's nbd engine (libnbd) needs and nothing more.
 *
 * <pre>
 *   java -cp herd.jar MinimalNbdServer.java PORT WORKERS file IMAGE      a plain file, each 4 KiB block's CRC32C computed on read and write
 *   java -cp herd.jar MinimalNbdServer.java PORT WORKERS store DIR VOLUME_ID SIZE_BYTES   herd's VolumeDevice over the ObjectStore in DIR
 * </pre>
 *
 * Each connection is served by WORKERS platform threads that take turns, as nbdkit's are: the one
 * holding the input lock reads a request (and a write's data), lets go, serves it, and writes its reply
 * under the output lock.
 */
public class MinimalNbdServer {
    private static final long NBDMAGIC = 0x4e42444d41474943L;
    private static final long IHAVEOPT = 0x49484156454f5054L;
    private static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    private static final int OPT_INFO = 6, OPT_GO = 7, OPT_STRUCTURED_REPLY = 8;
    private static final int REP_ACK = 1, REP_INFO = 3, REP_ERR_UNSUP = 0x80000001;
    private static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3;
    private static final int BLOCK = 4096;
    private static final int MAX_PAYLOAD = 32 << 20;

    /** What serves the requests' data: a plain file or herd's volume device. */
    interface Data {
        long size();
        void read(long offset, ByteBuffer into) throws IOException;
        void write(long offset, ByteBuffer from) throws IOException;
        void flush() throws IOException;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: MinimalNbdServer PORT WORKERS file IMAGE | PORT WORKERS store DIR VOLUME_ID SIZE_BYTES");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        int workers = Integer.parseInt(args[1]);
        Data data = switch (args[2]) {
            case "file" -> new FileData(FileChannel.open(Path.of(args[3]), StandardOpenOption.READ, StandardOpenOption.WRITE));
            case "store" -> new DeviceData(new VolumeDevice("v", Long.parseLong(args[5]), Integer.parseInt(args[4]),
                    ObjectStore.open(Path.of(args[3]), 1L << 40)));
            default -> throw new IllegalArgumentException("unknown data '" + args[2] + "': file or store");
        };
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress("127.0.0.1", port));
            while (true) {
                SocketChannel client = listener.accept();
                client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Thread.ofPlatform().start(() -> serve(client, data, workers));
            }
        }
    }

    /** A plain file; every block's CRC32C is computed (and dropped) as herd computes its checksums. */
    record FileData(FileChannel file) implements Data {
        public long size() {
            try {
                return file.size();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        public void read(long offset, ByteBuffer into) throws IOException {
            ByteBuffer view = into.duplicate();
            while (view.hasRemaining()) {
                if (file.read(view, offset + view.position() - into.position()) < 0) {
                    throw new EOFException("read beyond the image's end");
                }
            }
            checksum(into);
        }

        public void write(long offset, ByteBuffer from) throws IOException {
            checksum(from);
            ByteBuffer view = from.duplicate();
            while (view.hasRemaining()) {
                file.write(view, offset + view.position() - from.position());
            }
        }

        public void flush() throws IOException {
            file.force(false);
        }

        private static void checksum(ByteBuffer data) {
            CRC32C crc = new CRC32C();
            for (int at = data.position(); at < data.limit(); at += BLOCK) {
                crc.reset();
                crc.update(data.slice(at, Math.min(BLOCK, data.limit() - at)));
            }
        }
    }

    /** herd's volume device over its object store, as herd's stand-alone NBD server has it. */
    record DeviceData(BlockDevice device) implements Data {
        public long size() {
            return device.sizeBytes();
        }

        public void read(long offset, ByteBuffer into) throws IOException {
            succeed(device.read(offset, into.duplicate()));
        }

        public void write(long offset, ByteBuffer from) throws IOException {
            succeed(device.write(offset, from.duplicate(), false));
        }

        public void flush() throws IOException {
            succeed(device.flush());
        }

        private static void succeed(DeviceResult<?> result) throws IOException {
            if (!(result instanceof DeviceResult.Ok<?>)) {
                throw new IOException("the device failed: " + result);
            }
        }
    }

    private static void serve(SocketChannel client, Data data, int workers) {
        try (client) {
            boolean structured = handshake(client, data.size());
            ReentrantLock input = new ReentrantLock();
            ReentrantLock output = new ReentrantLock();
            Thread[] threads = new Thread[workers];
            for (int i = 0; i < workers; i++) {
                threads[i] = Thread.ofPlatform().start(() -> work(client, data, structured, input, output));
            }
            for (Thread thread : threads) {
                thread.join();
            }
        } catch (IOException | InterruptedException e) {
            System.err.println("connection ended: " + e);
        }
    }

    /** Fixed newstyle: OPT_GO (or INFO) answered with the size, structured replies accepted; returns whether they were. */
    private static boolean handshake(SocketChannel client, long size) throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) 3).flip();
        writeFully(client, greeting);
        readFully(client, ByteBuffer.allocate(4)); // the client's flags
        boolean structured = false;
        while (true) {
            ByteBuffer header = readFully(client, ByteBuffer.allocate(16)).flip();
            header.getLong();
            int option = header.getInt();
            readFully(client, ByteBuffer.allocate(header.getInt())); // its data: export name, info requests
            if (option == OPT_GO || option == OPT_INFO) {
                short flags = 1 | 4 | 256; // HAS_FLAGS, SEND_FLUSH, CAN_MULTI_CONN
                optionReply(client, option, REP_INFO, ByteBuffer.allocate(12).putShort((short) 0).putLong(size).putShort(flags).flip());
                optionReply(client, option, REP_ACK, ByteBuffer.allocate(0));
                if (option == OPT_GO) {
                    return structured;
                }
            } else if (option == OPT_STRUCTURED_REPLY) {
                structured = true;
                optionReply(client, option, REP_ACK, ByteBuffer.allocate(0));
            } else {
                optionReply(client, option, REP_ERR_UNSUP, ByteBuffer.allocate(0));
            }
        }
    }

    private static void optionReply(SocketChannel client, int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(data.remaining()).flip();
        writeFully(client, header, data);
    }

    private static void work(SocketChannel client, Data data, boolean structured, ReentrantLock input, ReentrantLock output) {
        ByteBuffer request = ByteBuffer.allocateDirect(28);
        ByteBuffer payload = ByteBuffer.allocateDirect(MAX_PAYLOAD);
        ByteBuffer reply = ByteBuffer.allocateDirect(32);
        try {
            while (true) {
                int type;
                long cookie;
                long offset;
                int length;
                input.lock();
                try {
                    readFully(client, request.clear()).flip();
                    request.getInt(); // magic
                    request.getShort(); // flags
                    type = request.getShort() & 0xffff;
                    cookie = request.getLong();
                    offset = request.getLong();
                    length = request.getInt();
                    if (type == CMD_WRITE) {
                        readFully(client, payload.clear().limit(length));
                    }
                } finally {
                    input.unlock();
                }
                reply.clear();
                payload.clear().limit(type == CMD_READ || type == CMD_WRITE ? length : 0);
                switch (type) {
                    case CMD_DISC -> {
                        client.close();
                        return;
                    }
                    case CMD_READ -> data.read(offset, payload);
                    case CMD_WRITE -> data.write(offset, payload);
                    case CMD_FLUSH -> data.flush();
                    default -> throw new IOException("unsupported command " + type);
                }
                if (type == CMD_READ && structured) { // one OFFSET_DATA chunk, flagged DONE
                    reply.putInt(0x668e33ef).putShort((short) 1).putShort((short) 1).putLong(cookie).putInt(length + 8).putLong(offset);
                } else {
                    reply.putInt(0x67446698).putInt(0).putLong(cookie);
                }
                reply.flip();
                output.lock();
                try {
                    if (type == CMD_READ) {
                        writeFully(client, reply, payload);
                    } else {
                        writeFully(client, reply);
                    }
                } finally {
                    output.unlock();
                }
            }
        } catch (EOFException | ClosedChannelException e) {
            // the client left
        } catch (IOException e) {
            System.err.println("worker ended: " + e);
        }
    }

    private static ByteBuffer readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException();
            }
        }
        return buffer;
    }

    private static void writeFully(SocketChannel channel, ByteBuffer... buffers) throws IOException {
        long left = 0;
        for (ByteBuffer buffer : buffers) {
            left += buffer.remaining();
        }
        while (left > 0) {
            left -= channel.write(buffers);
        }
    }
}
