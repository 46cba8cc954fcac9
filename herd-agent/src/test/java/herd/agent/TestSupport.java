package herd.agent;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Helpers shared by the tests: agents from test resources, free ports, commands, waiting. */
final class TestSupport {

    /** Generous: the machine is shared, and waiting longer never makes a test pass wrongly. */
    static final long WAIT_MILLIS = 30_000;

    private TestSupport() {
    }

    /** Copies a test agent from src/test/resources/agents to {@code target} and makes it executable. */
    static Path installAgent(String name, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try (InputStream in = TestSupport.class.getResourceAsStream("/agents/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource agents/" + name + " missing");
            }
            Files.write(target, in.readAllBytes());
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        return target;
    }

    /** A temporary OCF root holding test agents under provider "herdtest". */
    static Path ocfRootWith(Path directory, String... agents) throws IOException {
        for (String agent : agents) {
            installAgent(agent, directory.resolve("resource.d/herdtest").resolve(agent));
        }
        return directory;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Runs a command to completion; returns its exit code and output. */
    static Result run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " did not finish");
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    record Result(int exitCode, String output) {
    }

    static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    /** True when the process exists and is not a zombie. */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    static ExecutorSettings settings(String node, Path runDirectory) {
        return ExecutorSettings.defaults(node, runDirectory);
    }
}
