package herd.cli;

/** Exit codes of the herd command; stable, so scripts can rely on them (docs/operations.md). */
public final class ExitCode {
    private ExitCode() {}

    public static final int OK = 0;
    /** Anything not covered below. */
    public static final int FAILURE = 1;
    /** Wrong usage: unknown option, missing argument, invalid value. */
    public static final int USAGE = 2;
    /** The key, server or node does not exist. */
    public static final int NOT_FOUND = 3;
    /** A compare-and-set found another revision, or a membership change was refused. */
    public static final int CONFLICT = 4;
    /** No node could be reached, or the cluster has no leader right now. */
    public static final int UNAVAILABLE = 5;
    /** The token is missing or wrong. */
    public static final int UNAUTHORIZED = 6;
}
