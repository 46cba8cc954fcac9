package herd.agent.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Reads /proc and signals whole process groups (Java can only signal single processes). */
public final class ProcessGroups {

    private static final Path PROC = Path.of("/proc");
    private static final String KILL_COMMAND = "/bin/kill";
    private static final long KILL_COMMAND_TIMEOUT_MILLIS = 5_000;
    private static final long POLL_MILLIS = 20;

    private ProcessGroups() {
    }

    /** The fields of /proc/PID/stat herd needs. */
    public record ProcStat(long pid, char state, long processGroupId, long sessionId, long startTimeTicks) {
        public boolean isZombie() {
            return state == 'Z' || state == 'X';
        }
    }

    /** Parses one /proc/PID/stat line; the command name may hold spaces and parentheses. */
    public static ProcStat parseStat(String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open < 0 || close < open) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: " + line);
        }
        long pid = Long.parseLong(line.substring(0, open).trim());
        // Fields after the name start at field 3 (state); starttime is field 22.
        String[] rest = line.substring(close + 2).trim().split(" ");
        return new ProcStat(pid, rest[0].charAt(0), Long.parseLong(rest[2]), Long.parseLong(rest[3]),
            Long.parseLong(rest[19]));
    }

    public static Optional<ProcStat> stat(long pid) {
        try {
            return Optional.of(parseStat(Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"))));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            // The process exited between listing and reading.
            return Optional.empty();
        }
    }

    /** The start time of a live (not zombie) process, in clock ticks since boot. */
    public static OptionalLong startTime(long pid) {
        return stat(pid).filter(s -> !s.isZombie()).map(s -> OptionalLong.of(s.startTimeTicks())).orElse(OptionalLong.empty());
    }

    /** Live (not zombie) processes whose process group is {@code processGroupId}. */
    public static List<Long> liveMembers(long processGroupId) {
        List<Long> members = new ArrayList<>();
        try (Stream<Path> entries = Files.list(PROC)) {
            entries.map(p -> p.getFileName().toString())
                .filter(name -> !name.isEmpty() && name.chars().allMatch(Character::isDigit))
                .map(Long::parseLong)
                .forEach(pid -> stat(pid)
                    .filter(s -> s.processGroupId() == processGroupId && !s.isZombie())
                    .ifPresent(s -> members.add(s.pid())));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return members;
    }

    /** Sends {@code signal} (TERM, KILL, ...) to every process of the group; false if none was there. */
    public static boolean signalGroup(long processGroupId, String signal) {
        if (processGroupId <= 1) {
            throw new IllegalArgumentException("refusing to signal process group " + processGroupId);
        }
        try {
            Process kill = new ProcessBuilder(KILL_COMMAND, "-s", signal, "--", "-" + processGroupId)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
            // onExit().get() parks a virtual thread; Process.waitFor would pin its carrier.
            return kill.onExit().get(KILL_COMMAND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).exitValue() == 0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + KILL_COMMAND, e);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits until the group has no live member; true if it emptied within {@code waitMillis}. */
    public static boolean awaitEmpty(long processGroupId, long waitMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (!liveMembers(processGroupId).isEmpty()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** SIGKILL to the whole group, then waits (bounded) until its members are gone. */
    public static boolean killGroup(long processGroupId, long waitMillis) {
        signalGroup(processGroupId, "KILL");
        return awaitEmpty(processGroupId, waitMillis);
    }
}
