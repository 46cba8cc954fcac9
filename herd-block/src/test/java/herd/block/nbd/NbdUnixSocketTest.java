package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.store.ObjectStore;
import herd.block.testing.Tool;
import herd.block.volume.VolumeDevice;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on a Unix socket: real clients reach a volume through it, its file admits the owner and
 * group only and goes when the server does, a file left by a server that died is replaced, and
 * what cannot be replaced is refused with the reason and left as it was.
 */
class NbdUnixSocketTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path directory;

    private ObjectStore store;
    private MapExportResolver exports;
    private Path socket;

    @BeforeEach
    void openStore() throws IOException {
        store = ObjectStore.open(directory.resolve("store"), 256 * MIB);
        exports = new MapExportResolver(Map.of("vol", new VolumeDevice("vol", 16 * MIB, 1, store)));
        socket = directory.resolve("nbd.sock");
    }

    @AfterEach
    void closeStore() throws IOException {
        store.close();
    }

    @Test
    void qemuIoAndNbdcopyReachTheVolumeThroughTheSocket() throws IOException {
        Path image = directory.resolve("in.raw");
        Path copy = directory.resolve("out.raw");
        byte[] data = new byte[(int) (16 * MIB)];
        new Random(3).nextBytes(data);
        Files.write(image, data);
        try (NbdServer server = new NbdServer(UnixDomainSocketAddress.of(socket), exports)) {
            server.start();
            String uri = "nbd+unix:///vol?socket=" + socket;

            Tool.Result in = Tool.run("nbdcopy", "--connections", "2", image.toString(), uri);
            Tool.Result write = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x5c 5M 1M", "-c", "flush", uri);
            Tool.Result read = Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x5c 5M 1M", uri);
            Tool.Result out = Tool.run("nbdcopy", uri, copy.toString());

            assertThat(in.exitCode()).as(in.toString()).isZero();
            assertThat(write.exitCode()).as(write.toString()).isZero();
            assertThat(read.exitCode()).as(read.toString()).isZero();
            assertThat(read.output()).doesNotContain("fail");
            assertThat(out.exitCode()).as(out.toString()).isZero();
            java.util.Arrays.fill(data, (int) (5 * MIB), (int) (6 * MIB), (byte) 0x5c);
            assertThat(Files.readAllBytes(copy)).isEqualTo(data);
        }
    }

    @Test
    void theSocketAdmitsItsOwnerAndGroupOnlyAndGoesWithTheServer() throws IOException {
        NbdServer server = new NbdServer(UnixDomainSocketAddress.of(socket), exports);
        server.start();

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
        Tool.Result info = Tool.run("nbdinfo", "nbd+unix:///vol?socket=" + socket);
        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.output()).contains("export-size: 16777216");

        server.close();
        assertThat(socket).doesNotExist();
    }

    @Test
    void aSocketLeftByAServerThatDiedIsReplaced() throws IOException {
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(socket));
        dead.close(); // as after a SIGKILL: the file stays, nothing listens
        assertThat(socket).exists();

        try (NbdServer server = new NbdServer(UnixDomainSocketAddress.of(socket), exports)) {
            server.start();

            Tool.Result info = Tool.run("nbdinfo", "nbd+unix:///vol?socket=" + socket);
            assertThat(info.exitCode()).as(info.toString()).isZero();
        }
    }

    @Test
    void aSocketAnotherServerListensOnIsRefusedAndThatServerGoesOn() throws IOException {
        try (NbdServer first = new NbdServer(UnixDomainSocketAddress.of(socket), exports)) {
            first.start();
            NbdServer second = new NbdServer(UnixDomainSocketAddress.of(socket), exports);

            assertThatThrownBy(second::start).isInstanceOf(IOException.class)
                .hasMessage("cannot listen for NBD on unix socket " + socket + ": another server listens on it"
                    + " (is this node already running?)");
            Tool.Result info = Tool.run("nbdinfo", "nbd+unix:///vol?socket=" + socket);
            assertThat(info.exitCode()).as(info.toString()).isZero();
        }
    }

    @Test
    void aPathThatCannotBeTheSocketIsRefusedAndLeftAsItWas() throws IOException {
        Files.writeString(socket, "not a socket");
        Path inMissingDirectory = directory.resolve("missing").resolve("nbd.sock");
        Path tooLong = directory.resolve("x".repeat(NbdServer.MAX_SOCKET_PATH_BYTES));

        assertThatThrownBy(() -> new NbdServer(UnixDomainSocketAddress.of(socket), exports).start())
            .hasMessageContaining("a file that is not a socket is there; remove it or choose another path");
        assertThat(socket).hasContent("not a socket");
        assertThatThrownBy(() -> new NbdServer(UnixDomainSocketAddress.of(inMissingDirectory), exports).start())
            .hasMessageContaining("the directory " + directory.resolve("missing") + " does not exist");
        assertThatThrownBy(() -> new NbdServer(UnixDomainSocketAddress.of(tooLong), exports).start())
            .hasMessageContaining(": its path has " + tooLong.toString().length() + " bytes and a Unix socket's may have at"
                + " most 107: choose a shorter one");
        assertThat(inMissingDirectory.getParent()).doesNotExist();
        assertThat(tooLong).doesNotExist();
    }
}
