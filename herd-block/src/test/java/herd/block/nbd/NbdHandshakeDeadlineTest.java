package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.store.ObjectStore;
import herd.block.volume.VolumeDevice;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client gets a bounded time for its handshake, enforced by a deadline that closes its socket,
 * not by timed reads: those, like a virtual thread's I/O, would leave the socket in non-blocking
 * mode for the whole connection, and every read finding no data would cost a failed read and a poll.
 */
class NbdHandshakeDeadlineTest {
    private static final long MIB = 1024 * 1024;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(500);
    private static final int O_NONBLOCK = 04000;

    @TempDir
    static Path directory;

    private static ObjectStore store;
    private static NbdServer server;

    @BeforeAll
    static void startServer() throws IOException {
        store = ObjectStore.open(directory, 64 * MIB);
        MapExportResolver exports = new MapExportResolver(Map.of("vol", new VolumeDevice("vol", 16 * MIB, 1, store)));
        server = new NbdServer(new InetSocketAddress("127.0.0.1", 0), exports, HANDSHAKE_TIMEOUT);
        server.start();
    }

    @AfterAll
    static void stopServer() throws IOException {
        server.close();
        store.close();
    }

    @Test
    void aClientThatDoesNotFinishItsHandshakeIsDroppedAtTheDeadline() throws IOException {
        long start = System.nanoTime();
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) { // greeting read, flags sent, then silence
            assertThat(client.in.read()).as("the server closes the connection").isEqualTo(-1);
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(elapsedMillis).isBetween(HANDSHAKE_TIMEOUT.toMillis() - 50, HANDSHAKE_TIMEOUT.toMillis() + 5_000);
    }

    @Test
    void aClientThatFinishedItsHandshakeOutlivesTheDeadline() throws Exception {
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) {
            assertThat(client.go("vol")).isNull();
            Thread.sleep(HANDSHAKE_TIMEOUT.toMillis() * 2);

            client.sendRequest(0, NbdProtocol.CMD_READ, 1, 0, 4096, null);
            RawNbdClient.Reply reply = client.readReply(cookie -> 4096);
            assertThat(reply.error()).isZero();
            assertThat(reply.payload()).hasSize(4096);
        }
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void theServersSocketStaysInBlockingMode() throws IOException {
        try (RawNbdClient client = new RawNbdClient(server.localAddress())) {
            assertThat(client.go("vol")).isNull();
            client.sendRequest(0, NbdProtocol.CMD_READ, 1, 0, 4096, null);
            assertThat(client.readReply(cookie -> 4096).error()).isZero();

            int serverPort = server.localAddress().getPort();
            int clientPort = client.socket.getLocalPort();
            long inode = socketInode(serverPort, clientPort).orElseThrow(
                    () -> new AssertionError("no TCP socket from port " + serverPort + " to " + clientPort));
            int flags = fileFlags(inode).orElseThrow(
                    () -> new AssertionError("this process holds no descriptor for socket inode " + inode));
            assertThat(flags & O_NONBLOCK).as("O_NONBLOCK in the flags of the server's socket").isZero();
        }
    }

    /**
     * The inode of the TCP socket with this local and remote port, from /proc/net/tcp and tcp6 (a
     * dual-stack socket is listed there, with the IPv4 address mapped).
     */
    private static Optional<Long> socketInode(int localPort, int remotePort) throws IOException {
        String local = String.format(":%04X", localPort);
        String remote = String.format(":%04X", remotePort);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                List<String> fields = List.of(line.trim().split("\\s+"));
                if (fields.size() > 9 && fields.get(1).endsWith(local) && fields.get(2).endsWith(remote)) {
                    return Optional.of(Long.parseLong(fields.get(9)));
                }
            }
        }
        return Optional.empty();
    }

    /** The open-file flags of this process's descriptor for the socket with that inode. */
    private static Optional<Integer> fileFlags(long inode) throws IOException {
        String target = "socket:[" + inode + "]";
        try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd"))) {
            for (Path descriptor : descriptors.toList()) {
                String link;
                try {
                    link = Files.readSymbolicLink(descriptor).toString();
                } catch (IOException e) {
                    continue; // closed since it was listed
                }
                if (link.equals(target)) {
                    Path info = Path.of("/proc/self/fdinfo", descriptor.getFileName().toString());
                    for (String line : Files.readAllLines(info)) {
                        if (line.startsWith("flags:")) {
                            return Optional.of(Integer.parseInt(line.substring("flags:".length()).trim(), 8));
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }
}
