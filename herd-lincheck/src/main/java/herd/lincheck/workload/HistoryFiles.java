package herd.lincheck.workload;

import herd.lincheck.History;
import herd.lincheck.HistoryFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Saves and loads histories in {@link HistoryFormat}, e.g. to keep the history of a failed test run. */
public final class HistoryFiles {

    private HistoryFiles() {}

    public static void write(Path file, History history) throws IOException {
        Files.writeString(file, HistoryFormat.format(history), StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException naming the file and line that could not be read */
    public static History read(Path file) throws IOException {
        try {
            return HistoryFormat.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}
