package herd.block.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real command-line client (qemu-io, nbdinfo, ...) and captures what it printed. */
public final class Tool {
    private Tool() {}

    /** A generous bound for one client run; tests never assert on timing. */
    public static final long TIMEOUT_SECONDS = 120;

    public record Result(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + output;
        }
    }

    public static Result run(String... command) {
        requireInstalled(command[0]);
        try {
            Path output = Files.createTempFile("tool", ".out");
            try {
                Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true)
                        .redirectOutput(output.toFile()).start();
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError(String.join(" ", command) + " did not finish within "
                            + TIMEOUT_SECONDS + " s:\n" + Files.readString(output, StandardCharsets.UTF_8));
                }
                return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(output);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", command) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command[0], e);
        }
    }

    private static void requireInstalled(String program) {
        for (String directory : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(directory, program))) {
                return;
            }
        }
        throw new AssertionError(program + " is not installed; bin/test installs it (packages qemu-utils, "
                + "libnbd-bin, fio)");
    }
}
