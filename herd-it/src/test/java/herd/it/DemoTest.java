package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code herd demo}, the first command a newcomer runs: three real servers, and Ctrl-C stops them all. */
class DemoTest {
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir Path root;

    @Test
    void theDemoRunsThreeServersSaysHowToReachThemAndStopsThemOnCtrlC() throws Exception {
        int base = freeDemoBasePort();
        List<String> addresses = List.of("127.0.0.1:" + base, "127.0.0.1:" + (base + 10), "127.0.0.1:" + (base + 20));
        Path output = root.resolve("demo.out");
        Process demo = new ProcessBuilder(HerdCluster.javaBinary(), "-jar", HerdCluster.JAR.toString(), "demo",
            "--dir", root.resolve("demo").toString(), "--base-port", String.valueOf(base))
            .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            String printed = awaitOutput(output, "Press Ctrl-C", demo);
            assertThat(printed).contains("Creating a 3-server cluster", "s1", "s2", "s3",
                "export HERD_ENDPOINT=" + String.join(",", addresses), "export HERD_TOKEN_FILE=");

            HttpKv client = new HttpKv(addresses, Files.readString(root.resolve("demo/s1/admin.token")).trim());
            client.putUntilAcknowledged("demo/greeting", "hello", TIMEOUT);
            assertThat(client.get("demo/greeting").value()).isEqualTo("hello");
            assertThat(client.getJson("/v1/servers").body().path("servers")).hasSize(3);

            new ProcessBuilder("kill", "-INT", String.valueOf(demo.pid())).start().waitFor();
            assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo ends on Ctrl-C").isTrue();
            for (String address : addresses) {
                awaitClosed(Integer.parseInt(address.substring(address.indexOf(':') + 1)));
            }
        } finally {
            if (demo.isAlive()) {
                demo.destroy(); // SIGTERM: its shutdown hook stops the servers
                if (!demo.waitFor(30, TimeUnit.SECONDS)) {
                    demo.destroyForcibly();
                }
            }
        }
    }

    /** A port for s1 such that s1, s2 and s3 (at +10 and +20) each find their API and Raft ports free. */
    private static int freeDemoBasePort() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = HerdCluster.freePortPair();
            if (isFree(base + 10) && isFree(base + 11) && isFree(base + 20) && isFree(base + 21)) {
                return base;
            }
        }
        throw new IOException("no free ports for a demo cluster");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String awaitOutput(Path output, String text, Process demo) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String printed = Files.exists(output) ? Files.readString(output) : "";
            if (printed.contains(text)) {
                return printed;
            }
            if (!demo.isAlive()) {
                throw new AssertionError("the demo ended (exit " + demo.exitValue() + ") before printing '" + text + "':\n" + printed);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the demo did not print '" + text + "' within " + TIMEOUT);
    }

    /** Waits until nothing listens on {@code port} any more: the server there has stopped. */
    private static void awaitClosed(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                Thread.sleep(200);
            } catch (ConnectException e) {
                return;
            }
        }
        throw new AssertionError("a server still listens on port " + port + " after the demo stopped");
    }
}
