package herd.agent.exec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A command to run as a child in its own process group.
 *
 * @param argv            the command and its arguments (without setsid; the launcher adds it)
 * @param environment     variables to set on top of the executor's environment (null values remove one)
 * @param stdinText       text written to the child's standard input, or null for /dev/null
 * @param directory       working directory, or null for the executor's
 * @param timeoutMillis   after this the whole process group is killed
 * @param outputLimitBytes how much of stdout and of stderr to keep (the last bytes)
 */
public record ChildCommand(List<String> argv, Map<String, String> environment, String stdinText, Path directory,
                           long timeoutMillis, int outputLimitBytes) {

    /** Enough for exit reasons and error messages. */
    public static final int OUTPUT_TAIL_BYTES = 8 * 1024;
    /** Enough for the largest meta-data documents of resource-agents and fence-agents. */
    public static final int METADATA_LIMIT_BYTES = 1024 * 1024;

    public ChildCommand {
        if (argv == null || argv.isEmpty()) {
            throw new IllegalArgumentException("a child command needs at least the program to run");
        }
        argv = List.copyOf(argv);
        environment = environment == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.HashMap<>(environment));
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeoutMillis + " ms");
        }
    }

    public static ChildCommand of(List<String> argv, long timeoutMillis) {
        return new ChildCommand(argv, Map.of(), null, null, timeoutMillis, OUTPUT_TAIL_BYTES);
    }
}
