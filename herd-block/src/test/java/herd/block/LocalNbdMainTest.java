package herd.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.testing.Tool;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalNbdMainTest {
    private static final int STARTUP_POLLS = 300;
    private static final long POLL_MILLIS = 100;

    @Test
    void parsesACompleteCommandLine() throws Exception {
        LocalNbdOptions options = LocalNbdOptions.parse(new String[] {"--dir", "/srv/herd", "--capacity", "10G",
                "--export", "a:512M", "--export", "b:1048576:ro", "--listen", "127.0.0.2:10900"});

        assertThat(options.capacityBytes()).isEqualTo(10L << 30);
        assertThat(options.exports()).containsExactly(new LocalNbdOptions.ExportSpec("a", 512L << 20, false),
                new LocalNbdOptions.ExportSpec("b", 1 << 20, true));
        assertThat(options.listen()).isEqualTo(new InetSocketAddress("127.0.0.2", 10900));
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        assertThatThrownBy(() -> LocalNbdOptions.parse(new String[] {"--capacity", "1G", "--export", "a:1M"}))
                .hasMessageContaining("--dir is required");
        assertThatThrownBy(() -> LocalNbdOptions.parse(new String[] {"--dir", "d", "--capacity", "lots",
                "--export", "a:1M"})).hasMessageContaining("'lots' is not a size");
        assertThatThrownBy(() -> LocalNbdOptions.parse(new String[] {"--dir", "d", "--capacity", "1G",
                "--export", "a:1M:rw"})).hasMessageContaining("may only be 'ro'");
        assertThatThrownBy(() -> LocalNbdOptions.parse(new String[] {"--dir", "d", "--capacity", "1G",
                "--export", "a:1M", "--export", "a:2M"})).hasMessageContaining("given twice");
    }

    @Test
    void exportsKeepTheirVolumeIdAndRefuseToShrink(@TempDir Path directory) throws Exception {
        ExportTable first = ExportTable.load(directory).with(List.of(new LocalNbdOptions.ExportSpec("a", 100, false),
                new LocalNbdOptions.ExportSpec("b", 100, false)));
        first.save(directory);

        ExportTable second = ExportTable.load(directory).with(List.of(new LocalNbdOptions.ExportSpec("b", 200, true),
                new LocalNbdOptions.ExportSpec("c", 100, false)));

        assertThat(second.find("b")).isEqualTo(new ExportTable.Volume("b", 2, 200));
        assertThat(second.find("c").volumeId()).isEqualTo(3);
        assertThatThrownBy(() -> second.with(List.of(new LocalNbdOptions.ExportSpec("b", 50, false))))
                .hasMessageContaining("would drop data");
    }

    @Test
    void servesVolumesAsAProcessAcrossRestarts(@TempDir Path directory) throws Exception {
        int port = freePort();
        String uri = "nbd://127.0.0.1:" + port + "/disk";
        Process server = start(directory, port);
        try {
            Tool.Result write = Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x42 1M 64k", uri);
            assertThat(write.exitCode()).as(write.toString()).isZero();
        } finally {
            stop(server);
        }
        server = start(directory, port);
        try {
            Tool.Result read = Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x42 1M 64k", uri);
            assertThat(read.exitCode()).as(read.toString()).isZero();
        } finally {
            stop(server);
        }
        assertThat(Files.readString(directory.resolve(ExportTable.FILE_NAME))).contains("\"disk\"");
    }

    private static Process start(Path directory, int port) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                LocalNbdMain.class.getName(), "--dir", directory.toString(), "--capacity", "64M",
                "--export", "disk:8M", "--listen", "127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(directory.resolve("server.log").toFile()).start();
        for (int poll = 0; poll < STARTUP_POLLS; poll++) {
            try {
                new Socket("127.0.0.1", port).close();
                return process;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new AssertionError("LocalNbdMain exited: "
                            + Files.readString(directory.resolve("server.log")));
                }
                Thread.sleep(POLL_MILLIS);
            }
        }
        process.destroyForcibly();
        throw new AssertionError("LocalNbdMain did not listen on port " + port);
    }

    private static void stop(Process process) throws InterruptedException {
        process.destroy(); // SIGTERM: the shutdown hook syncs and closes the store
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
