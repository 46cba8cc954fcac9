package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volumes on a real herd server, written and read by qemu-io and qemu-img over NBD: snapshots and
 * clones are copy-on-write (the snapshot and the clone keep the old bytes while the volume moves
 * on), a snapshot taken while a client is connected splits that client's writes cleanly, bad input
 * gets clear errors, and the data survives a SIGKILL of the server.
 */
class VolumeTest {
    private static final long TOOL_TIMEOUT_SECONDS = 60;

    @TempDir Path root;
    private HerdCluster cluster;
    private int nbdPort;

    @AfterEach
    void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void snapshotsAndClonesKeepTheirDataAndTheVolumeSurvivesARestart() throws Exception {
        nbdPort = HerdCluster.freePortPair();
        Path socket = root.resolve("nbd.sock");
        cluster = HerdCluster.start(root.resolve("cluster"), 1, "--nbd-address", "127.0.0.1:" + nbdPort,
            "--nbd-socket", socket.toString());

        herd("volume", "create", "vol", "64M", "--tag", "test");
        qemuIo("vol", "write -P 0xab 0 8M");
        // the node's Unix socket serves the same volumes
        NbdTools.ToolResult throughSocket = run(List.of("qemu-io", "-f", "raw", "-c", "read -P 0xab 0 8M",
            "nbd+unix:///vol?socket=" + socket));
        assertThat(throughSocket.exitCode()).as(throughSocket.toString()).isZero();
        herd("volume", "snapshot", "vol", "snap");
        qemuIo("vol", "write -P 0xcd 1M 2M");
        herd("volume", "clone", "snap", "vol-clone");
        HerdCluster.CliResult wideClone = cluster.cliAgainstCluster("volume", "clone", "snap", "vol-wide", "--copies", "2");
        assertThat(wideClone.exitCode()).as(wideClone.toString()).isNotZero();
        assertThat(wideClone.stderr()).contains("2 copies asked for clone 'vol-wide'", "1 zone(s)");

        qemuIo("vol", "read -P 0xab 0 1M", "read -P 0xcd 1M 2M", "read -P 0xab 3M 5M", "read -P 0 8M 56M");
        qemuIo("vol-clone", "read -P 0xab 0 8M", "read -P 0 8M 56M");
        qemuIoReadOnly("snap", "read -P 0xab 0 8M");
        assertThat(qemuImgCompare("snap", "vol-clone").exitCode()).as("snapshot and clone are identical").isZero();
        assertThat(qemuImgCompare("snap", "vol").exitCode()).as("the volume moved on").isEqualTo(1);
        // a clone written after its snapshot moves on alone: the snapshot and the volume keep their bytes
        qemuIo("vol-clone", "write -P 0x5e 512k 1M", "flush");
        qemuIo("vol-clone", "read -P 0xab 0 512k", "read -P 0x5e 512k 1M", "read -P 0xab 1536k 6656k");
        qemuIoReadOnly("snap", "read -P 0xab 0 8M");
        qemuIo("vol", "read -P 0xab 0 1M", "read -P 0xcd 1M 2M");

        NbdTools.ToolResult writeToSnapshot = run(List.of("qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", uri("snap")));
        assertThat(writeToSnapshot.exitCode()).isNotZero();
        assertThat(writeToSnapshot.output()).as("qemu opens a read-only export only read-only").contains("Permission denied");

        HerdCluster.CliResult list = herd("volume", "list");
        assertThat(list.stdout()).contains("vol-clone").contains("snap").contains("test");
        assertThat(herd("volume", "tree").stdout()).contains("snap (snapshot").contains("├─ vol (volume").contains("└─ vol-clone");
        assertThat(herd("volume", "info", "vol").stdout()).contains("parents:   snap").contains("attached:  s1");

        // every copy checks out (one each here); a damaged block with no other copy is reported, not hidden
        assertThat(herd("volume", "check", "snap").stdout())
            .isEqualTo("volume snap: 2 object(s) checked of 16 index(es), 2 copies good, 0 repaired, 0 problem(s)\n");
        Path snapshotObject = objectWithIndex(1); // the snapshot's, which vol still reads for 4M..8M
        HerdCluster.flipByte(snapshotObject, 5 * 4096 + 1);
        HerdCluster.CliResult damaged = herd(false, "volume", "check", "vol");
        assertThat(damaged.exitCode()).as(damaged.toString()).isEqualTo(1);
        assertThat(damaged.stdout()).as(damaged.toString())
            .contains("problem: the copy of object " + snapshotObject.getFileName() + " (index 1) on node s1: its copy "
                + "failed its checksum and no other copy read well to replace it")
            .endsWith("volume vol: 2 object(s) checked of 16 index(es), 1 copy good, 0 repaired, 1 problem(s)\n");
        HerdCluster.flipByte(snapshotObject, 5 * 4096 + 1); // undone: the reads below cover it

        herd("volume", "delete", "vol-clone");
        assertThat(herd("volume", "list").stdout()).doesNotContain("vol-clone");
        NbdTools.ToolResult gone = run(List.of("qemu-io", "-f", "raw", "-c", "read 0 4k", uri("vol-clone")));
        assertThat(gone.exitCode()).isNotZero();
        assertThat(gone.output()).contains("'vol-clone' does not exist");

        cluster.kill("s1");
        cluster.restart("s1");
        cluster.leader();
        qemuIo("vol", "read -P 0xab 0 1M", "read -P 0xcd 1M 2M", "read -P 0xab 3M 5M");
        qemuIoReadOnly("snap", "read -P 0xab 0 8M");
        // the socket file the killed process left was replaced by the new one's
        NbdTools.ToolResult afterRestart = run(List.of("qemu-io", "-f", "raw", "-c", "read -P 0xcd 1M 2M",
            "nbd+unix:///vol?socket=" + socket));
        assertThat(afterRestart.exitCode()).as(afterRestart.toString()).isZero();
        assertThat(afterRestart.output()).doesNotContain("fail");
    }

    @Test
    void aSnapshotTakenWhileAClientWritesSplitsItsWritesAndBadInputIsRefused() throws Exception {
        nbdPort = HerdCluster.freePortPair();
        cluster = HerdCluster.start(root.resolve("cluster"), 1, "--nbd-address", "127.0.0.1:" + nbdPort);
        herd("volume", "create", "db", "16M");

        Process client = new ProcessBuilder("qemu-io", "-f", "raw", uri("db")).redirectErrorStream(true).start();
        try (Writer commands = new java.io.OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader output = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            interact(commands, output, "write -P 0x11 0 6M", "wrote");
            herd("volume", "snapshot", "db", "db.before");
            // rollbacks refused for their snapshot change nothing: the connected client goes on writing
            herd("volume", "create", "other", "16M");
            herd("volume", "snapshot", "other", "other.s");
            assertRefused(herd(false, "volume", "rollback", "db", "nope"), "there is no snapshot named 'nope'");
            assertRefused(herd(false, "volume", "rollback", "db", "other.s"), "was not taken of volume 'db'");
            interact(commands, output, "write -P 0x22 2M 6M", "wrote");
            interact(commands, output, "flush", "");
            commands.write("quit\n");
        } finally {
            if (!client.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                client.destroyForcibly();
            }
        }
        qemuIoReadOnly("db.before", "read -P 0x11 0 6M", "read -P 0 6M 10M");
        qemuIo("db", "read -P 0x11 0 2M", "read -P 0x22 2M 6M", "read -P 0 8M 8M");

        assertRefused(herd(false, "volume", "create", "big", "1G", "--copies", "2"), "span 1 zone(s)");
        assertRefused(herd(false, "volume", "create", "none", "16M", "--copies", "0"), "\"copies\" must be a whole number of 1 or more");
        assertRefused(herd(false, "volume", "create", "db", "1G"), "the name 'db' is taken");
        assertRefused(herd(false, "volume", "create", "empty", "0"), "size 0 bytes is not valid");
        assertRefused(herd(false, "volume", "create", "odd", "ten"), "is not a size");
        Path spare = root.resolve("spare");
        HerdCluster.CliResult relativeSocket = HerdCluster.cli("init", "--name", "s9", "--address", "127.0.0.1:1",
            "--data", spare.toString(), "--nbd-socket", "nbd.sock");
        assertThat(relativeSocket.exitCode()).as(relativeSocket.toString()).isNotZero();
        assertThat(relativeSocket.stderr()).contains("the NBD socket 'nbd.sock' is not an absolute path");
        assertThat(spare).as("nothing written for a refused init").doesNotExist();
        assertRefused(herd(false, "volume", "resize", "db", "8M"), "volumes only grow");
        assertThat(herd("volume", "list").stdout()).doesNotContain("big").doesNotContain("empty").doesNotContain("odd").doesNotContain("none");

        herd("volume", "rollback", "db", "db.before");
        qemuIo("db", "read -P 0x11 0 6M", "read -P 0 6M 10M");
        herd("volume", "resize", "db", "32M");
        qemuIo("db", "read -P 0x11 0 6M", "write -P 0x33 30M 2M", "read -P 0x33 30M 2M");

        // a reader of a snapshot deleted under it gets an error once the data is reclaimed, never zeros
        herd("volume", "create", "gone", "16M");
        qemuIo("gone", "write -P 0x44 0 1M");
        herd("volume", "snapshot", "gone", "gone.s");
        Process reader = new ProcessBuilder("qemu-io", "-r", "-f", "raw", uri("gone.s")).redirectErrorStream(true).start();
        try (Writer commands = new java.io.OutputStreamWriter(reader.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader output = new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8))) {
            interact(commands, output, "read -P 0x44 0 1M", "read ");
            herd("volume", "detach", "gone");
            herd("volume", "delete", "gone");
            herd("volume", "delete", "gone.s");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String answer = "";
            while (!answer.contains("failed") && System.nanoTime() < deadline) {
                commands.write("read -P 0x44 0 1M\n");
                commands.flush();
                answer = output.readLine();
                assertThat(answer).as("qemu-io answered").isNotNull();
                assertThat(answer).as("a reclaimed object read as zeros").doesNotContain("Pattern verification failed");
                if (answer.contains("read ") && !answer.contains("failed")) {
                    output.readLine(); // the read's timing line
                }
                Thread.sleep(200);
            }
            assertThat(answer).contains("read failed: Input/output error");
            commands.write("quit\n");
        } finally {
            if (!reader.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                reader.destroyForcibly();
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The one object file of the volume store with index {@code index} (the last 8 hex digits of its name). */
    private Path objectWithIndex(int index) throws IOException {
        String suffix = String.format("%08x", index);
        List<Path> found = cluster.objectFiles("s1").stream().filter(f -> f.getFileName().toString().endsWith(suffix)).toList();
        assertThat(found).as("objects with index %d", index).hasSize(1);
        return found.get(0);
    }

    private String uri(String export) {
        return new NbdTools(cluster, nbdPort).uri(export);
    }

    private HerdCluster.CliResult herd(String... args) throws Exception {
        return herd(true, args);
    }

    private HerdCluster.CliResult herd(boolean mustSucceed, String... args) throws Exception {
        HerdCluster.CliResult result = cluster.cliAgainstCluster(args);
        if (mustSucceed) {
            assertThat(result.exitCode()).as("herd " + String.join(" ", args) + ": " + result).isZero();
        }
        return result;
    }

    private static void assertRefused(HerdCluster.CliResult result, String message) {
        assertThat(result.exitCode()).as(result.toString()).isNotZero();
        assertThat(result.stderr()).contains(message);
    }

    private void qemuIo(String export, String... commands) throws Exception {
        new NbdTools(cluster, nbdPort).qemuIo(export, commands);
    }

    private void qemuIoReadOnly(String export, String... commands) throws Exception {
        new NbdTools(cluster, nbdPort).qemuIoReadOnly(export, commands);
    }

    private NbdTools.ToolResult qemuImgCompare(String first, String second) throws Exception {
        return new NbdTools(cluster, nbdPort).qemuImgCompare(first, second);
    }

    /** Sends one qemu-io command and waits for the line that says it finished. */
    private static void interact(Writer commands, BufferedReader output, String command, String doneMarker) throws IOException {
        commands.write(command + "\n");
        commands.flush();
        if (doneMarker.isEmpty()) {
            return;
        }
        String line;
        while ((line = output.readLine()) != null) {
            assertThat(line).as("qemu-io said").doesNotContain("failed");
            if (line.contains(doneMarker)) {
                return;
            }
        }
        throw new AssertionError("qemu-io ended before '" + command + "' finished");
    }

    private static NbdTools.ToolResult run(List<String> command) throws Exception {
        return NbdTools.run(command);
    }
}
