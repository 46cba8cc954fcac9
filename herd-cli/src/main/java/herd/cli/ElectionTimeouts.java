package herd.cli;

/** Parses "MIN-MAX" in milliseconds; absent means the control plane's defaults (0, 0). */
final class ElectionTimeouts {
    private ElectionTimeouts() {}

    static long[] parse(String range) {
        if (range == null) {
            return new long[] {0, 0};
        }
        String[] parts = range.split("-");
        try {
            long min = Long.parseLong(parts[0].trim());
            long max = Long.parseLong(parts[1].trim());
            if (parts.length == 2 && min >= 100 && max > min) {
                return new long[] {min, max};
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            // reported below
        }
        throw new CliException(ExitCode.USAGE, "--election-timeout " + range
            + " is not valid: give MIN-MAX in milliseconds with 100 <= MIN < MAX, e.g. 1000-2000");
    }
}
