package herd.agent.exec;

/** How a child command ended. Operating failures are values here; the runners map them to OCF terms. */
public sealed interface ChildOutcome {

    /** The child exited by itself (a code above 128 means it died of signal code-128). */
    record Exited(int exitCode, String stdout, String stderr) implements ChildOutcome {
    }

    /** The timeout passed; the whole process group was killed. */
    record TimedOut(long timeoutMillis, String stdout, String stderr) implements ChildOutcome {
    }

    /** The executor was closed while the child ran (or before it started); its group was killed. */
    record Cancelled() implements ChildOutcome {
    }

    /** The child could not be started at all. */
    record LaunchFailed(String reason) implements ChildOutcome {
    }

    default String stderrOrEmpty() {
        return switch (this) {
            case Exited e -> e.stderr();
            case TimedOut t -> t.stderr();
            case Cancelled c -> "";
            case LaunchFailed f -> "";
        };
    }
}
