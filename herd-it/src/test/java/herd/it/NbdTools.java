package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real NBD clients (qemu-io, qemu-img, fio) against a herd node's NBD server, as the volume tests drive them. */
final class NbdTools {
    private static final long TOOL_TIMEOUT_SECONDS = 120;

    /** What a tool printed (standard output and error together) and how it ended. */
    record ToolResult(int exitCode, String output) {}

    private final HerdCluster cluster;
    private final int nbdPort;

    NbdTools(HerdCluster cluster, int nbdPort) {
        this.cluster = cluster;
        this.nbdPort = nbdPort;
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + nbdPort + "/" + export;
    }

    /** Runs qemu-io commands on the export (read-write) and expects them to succeed and their patterns to verify. */
    void qemuIo(String export, String... commands) throws Exception {
        qemuIo(export, false, commands);
    }

    void qemuIoReadOnly(String export, String... commands) throws Exception {
        qemuIo(export, true, commands);
    }

    private void qemuIo(String export, boolean readOnly, String... commands) throws Exception {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        if (readOnly) {
            command.add("-r");
        }
        for (String each : commands) {
            command.addAll(List.of("-c", each));
        }
        command.add(uri(export));
        ToolResult result = run(command);
        assertThat(result.exitCode()).as(String.join(" ", command) + "\n" + result.output() + "\nserver log:\n"
            + cluster.log("s1")).isZero();
        assertThat(result.output()).as(String.join(" ", command)).doesNotContain("Pattern verification failed");
    }

    ToolResult qemuImgCompare(String first, String second) throws Exception {
        return run(List.of("qemu-img", "compare", "-f", "raw", "-F", "raw", uri(first), uri(second)));
    }

    /** Runs a tool to its end (at most two minutes) with no input. */
    static ToolResult run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish");
        }
        return new ToolResult(process.exitValue(), output);
    }
}
