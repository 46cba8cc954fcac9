package herd.scheduler.model;

/**
 * Pacemaker's score arithmetic: integers clamped to [-INFINITY, +INFINITY], where -INFINITY wins over
 * +INFINITY (a ban beats a preference), exactly as Pacemaker's {@code pcmk__add_scores}.
 */
public final class Score {
    public static final int INFINITY = 1_000_000;

    private Score() {}

    /** Adds two scores; -INFINITY dominates, then +INFINITY, then the clamped sum. */
    public static int add(int a, int b) {
        if (a <= -INFINITY || b <= -INFINITY) return -INFINITY;
        if (a >= INFINITY || b >= INFINITY) return INFINITY;
        long sum = (long) a + b;
        return (int) Math.max(-INFINITY, Math.min(INFINITY, sum));
    }

    /** Parses "INFINITY", "+INFINITY", "-INFINITY", "inf" or an integer; clamps to the score range. */
    public static int parse(String text) {
        if (text == null) throw new IllegalArgumentException("score is missing");
        String t = text.trim();
        switch (t.toLowerCase(java.util.Locale.ROOT)) {
            case "infinity", "+infinity", "inf", "+inf" -> { return INFINITY; }
            case "-infinity", "-inf" -> { return -INFINITY; }
            case "" -> throw new IllegalArgumentException("score is empty");
            default -> { }
        }
        try {
            long v = Long.parseLong(t.startsWith("+") ? t.substring(1) : t);
            return (int) Math.max(-INFINITY, Math.min(INFINITY, v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("score '" + text + "' is not an integer or [+-]INFINITY");
        }
    }

    /** Parses like {@link #parse} but returns {@code fallback} for text that is not a score. */
    public static int parseOr(String text, int fallback) {
        try {
            return text == null ? fallback : parse(text);
        } catch (IllegalArgumentException e) {
            return fallback;
        }
    }

    public static String format(int score) {
        if (score >= INFINITY) return "INFINITY";
        if (score <= -INFINITY) return "-INFINITY";
        return Integer.toString(score);
    }
}
