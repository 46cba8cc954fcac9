package herd.agent.exec;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts children each in a new session and process group (via setsid), enforces their timeout by
 * killing the whole group, and keeps the tail of their output.
 *
 * <p>Output goes to files rather than pipes: an agent that leaves a daemon behind holding its stdout
 * cannot make herd wait, and no thread is needed per stream. The caller blocks on a virtual thread.
 */
public final class ProcessLauncher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProcessLauncher.class);

    public static final String SETSID = "/usr/bin/setsid";
    /** How long to wait for a killed group's members to disappear. */
    public static final long KILL_CONFIRM_MILLIS = 2_000;
    /** Added to PATH when missing, so agents find ip, arping and the like when the daemon's PATH is short. */
    private static final String SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final List<String> commandWrapper;
    private final Path outputDirectory;
    private final Set<Long> liveGroups = ConcurrentHashMap.newKeySet();
    private final AtomicLong sequence = new AtomicLong();
    private final Object lifecycle = new Object();
    private boolean closed;

    /**
     * @param commandWrapper  prepended to every command (after setsid), e.g. ip netns exec ns1
     * @param outputDirectory where children's output is captured while they run
     */
    public ProcessLauncher(List<String> commandWrapper, Path outputDirectory) {
        this.commandWrapper = List.copyOf(commandWrapper);
        this.outputDirectory = outputDirectory;
        try {
            Files.createDirectories(outputDirectory);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the agent output directory " + outputDirectory
                + "; check that the run directory is writable", e);
        }
    }

    public List<String> commandWrapper() {
        return commandWrapper;
    }

    /** The full argv a command is started with: setsid, the wrapper, then the command. */
    public List<String> fullArgv(List<String> argv) {
        List<String> full = new ArrayList<>(2 + commandWrapper.size() + argv.size());
        full.add(SETSID);
        full.addAll(commandWrapper);
        full.addAll(argv);
        return full;
    }

    /** Runs {@code command} to completion or timeout; blocks the calling (virtual) thread. */
    public ChildOutcome run(ChildCommand command) {
        long id = sequence.incrementAndGet();
        Path stdoutFile = outputDirectory.resolve(id + ".out");
        Path stderrFile = outputDirectory.resolve(id + ".err");
        try {
            return runCapturing(command, stdoutFile, stderrFile);
        } finally {
            deleteQuietly(stdoutFile);
            deleteQuietly(stderrFile);
        }
    }

    private ChildOutcome runCapturing(ChildCommand command, Path stdoutFile, Path stderrFile) {
        ProcessBuilder builder = new ProcessBuilder(fullArgv(command.argv()))
            .redirectOutput(stdoutFile.toFile())
            .redirectError(stderrFile.toFile())
            .redirectInput(command.stdinText() == null ? ProcessBuilder.Redirect.from(new File("/dev/null"))
                : ProcessBuilder.Redirect.PIPE);
        if (command.directory() != null) {
            builder.directory(command.directory().toFile());
        }
        applyEnvironment(builder.environment(), command.environment());
        Process process;
        synchronized (lifecycle) {
            if (closed) {
                return new ChildOutcome.Cancelled();
            }
            try {
                process = builder.start();
            } catch (IOException e) {
                return new ChildOutcome.LaunchFailed("cannot start " + command.argv().get(0) + ": " + e.getMessage());
            }
            liveGroups.add(process.pid());
        }
        try {
            writeStdin(process, command.stdinText());
            boolean exited = awaitExit(process, command.timeoutMillis());
            if (!exited) {
                // An interrupt (the executor closing) must not cut the kill short; restore it afterwards.
                boolean interrupted = Thread.interrupted();
                ProcessGroups.killGroup(process.pid(), KILL_CONFIRM_MILLIS);
                awaitExit(process, KILL_CONFIRM_MILLIS);
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (isClosed()) {
                return new ChildOutcome.Cancelled();
            }
            String stdout = readTail(stdoutFile, command.outputLimitBytes());
            String stderr = readTail(stderrFile, command.outputLimitBytes());
            if (!exited) {
                log.warn("{} timed out after {} ms; killed its process group {}", command.argv().get(0),
                    command.timeoutMillis(), process.pid());
                return new ChildOutcome.TimedOut(command.timeoutMillis(), stdout, stderr);
            }
            return new ChildOutcome.Exited(process.exitValue(), stdout, stderr);
        } finally {
            liveGroups.remove(process.pid());
        }
    }

    /** True when the process exited within the time; an interrupt counts as "not yet". */
    private static boolean awaitExit(Process process, long waitMillis) {
        try {
            // onExit() completes from the JDK's reaper; get() parks a virtual thread without pinning it.
            process.onExit().get(waitMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("waiting for process " + process.pid() + " failed", e);
        }
    }

    private static void writeStdin(Process process, String stdinText) {
        if (stdinText == null) {
            return;
        }
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(stdinText.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // The child exited without reading its input; its exit code tells the story.
            log.debug("child {} did not take its standard input: {}", process.pid(), e.getMessage());
        }
    }

    static void applyEnvironment(Map<String, String> target, Map<String, String> additions) {
        // Variables of another agent's protocol must not leak in from the daemon's own environment.
        target.keySet().removeIf(name -> name.startsWith("OCF_") || name.startsWith("HERD_FENCE_"));
        String path = target.get("PATH");
        target.put("PATH", path == null || path.isBlank() ? SYSTEM_PATH : path + ":" + SYSTEM_PATH);
        additions.forEach((name, value) -> {
            if (value == null) {
                target.remove(name);
            } else {
                target.put(name, value);
            }
        });
    }

    /** The last {@code limitBytes} bytes of a file, as text. */
    static String readTail(Path file, int limitBytes) {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = in.length();
            int count = (int) Math.min(length, limitBytes);
            byte[] bytes = new byte[count];
            in.seek(length - count);
            in.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.debug("cannot delete {}: {}", file, e.getMessage());
        }
    }

    private boolean isClosed() {
        synchronized (lifecycle) {
            return closed;
        }
    }

    /** Refuses new children and kills the process group of every child still running. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            closed = true;
        }
        for (Long group : List.copyOf(liveGroups)) {
            log.info("executor closing: killing process group {}", group);
            ProcessGroups.signalGroup(group, "KILL");
        }
    }
}
