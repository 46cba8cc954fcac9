package herd.it.netns;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

/** Runs short external commands (ip, curl, the herd CLI) to completion and captures their output. */
public final class Commands {
    private Commands() {}

    /** What a finished command printed (stdout and stderr merged) and how it exited. */
    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Throws with the command and its output when it failed, so the test log says what went wrong. */
        public Result orThrow() {
            if (!ok()) {
                throw new IllegalStateException("'" + String.join(" ", command) + "' exited with " + exitCode + ": "
                    + output.strip());
            }
            return this;
        }
    }

    /** Runs the command; one that is still running after {@code timeout} is killed and reported as exit code -1. */
    public static Result run(List<String> command, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(command, 127, "could not start: " + e.getMessage());
        }
        try {
            process.getOutputStream().close();
            // Its own thread, not a shared pool: commands run at once on several threads (sampler, test)
            // must not queue behind each other's reads.
            FutureTask<String> output = new FutureTask<>(() -> readAll(process.getInputStream()));
            Thread reader = new Thread(output, "command-output");
            reader.setDaemon(true);
            reader.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                return new Result(command, -1, "timed out after " + timeout.toMillis() + " ms");
            }
            return new Result(command, process.exitValue(), output.get());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading the output of " + command, e.getCause());
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
