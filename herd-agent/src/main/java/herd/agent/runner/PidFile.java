package herd.agent.runner;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * A herd:process pid file: the pid and the process's start time (clock ticks since boot, from
 * /proc/PID/stat), so a pid the kernel reused for another process is not mistaken for ours.
 */
public record PidFile(long pid, long startTimeTicks) {

    public String format() {
        return pid + " " + startTimeTicks + "\n";
    }

    /** Parses "PID STARTTIME"; empty when the text is not a herd pid file. */
    public static Optional<PidFile> parse(String text) {
        String[] fields = text.strip().split("\\s+");
        if (fields.length != 2) {
            return Optional.empty();
        }
        try {
            return Optional.of(new PidFile(Long.parseLong(fields[0]), Long.parseLong(fields[1])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Reads a pid file; a missing or unreadable one means "no process of ours". */
    public static Optional<PidFile> read(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes atomically, so a reader never sees half a file. */
    public void write(Path file) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, format());
        try {
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
