package herd.block.store;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The commands that the tests of a store on a file system of their own (which need root) run. */
final class MountCommands {
    private MountCommands() {
    }

    /** Runs a command; null when it succeeded, else what it printed. */
    static String run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return process.waitFor() == 0 ? null : "'" + String.join(" ", command) + "' failed: " + output;
    }

    /**
     * Runs a command a test needs to set up its file system; when it fails, the test fails if it must
     * run (as root, {@code bin/test} sets {@code HERD_TEST_REQUIRE_ROOT=1}) and is skipped otherwise.
     */
    static void setUp(String what, String... command) throws IOException, InterruptedException {
        String failure = run(command);
        if (failure != null && "1".equals(System.getenv("HERD_TEST_REQUIRE_ROOT"))) {
            fail("cannot " + what + ": " + failure + " (HERD_TEST_REQUIRE_ROOT=1 asks for this test to run)");
        }
        assumeTrue(failure == null, () -> what + " needs root: " + failure);
    }
}
