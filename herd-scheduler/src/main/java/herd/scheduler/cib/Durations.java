package herd.scheduler.cib;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Pacemaker's interval syntax: "10", "10s", "500ms", "2m", "1h", "1d" or ISO-8601 "P1DT2H", "PT10S". */
public final class Durations {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|msec|s|sec|m|min|h|hr|d)?");
    private static final Pattern ISO = Pattern.compile("P(?:(\\d+)D)?T?(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+)S)?");

    private Durations() {}

    public static long parseMillis(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIMPLE.matcher(t);
        if (m.matches()) {
            long v = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms", "msec" -> v;
                case "m", "min" -> v * 60_000;
                case "h", "hr" -> v * 3_600_000;
                case "d" -> v * 86_400_000;
                default -> v * 1000;
            };
        }
        Matcher iso = ISO.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (iso.matches() && text.length() > 1) {
            long ms = 0;
            if (iso.group(1) != null) ms += Long.parseLong(iso.group(1)) * 86_400_000;
            if (iso.group(2) != null) ms += Long.parseLong(iso.group(2)) * 3_600_000;
            if (iso.group(3) != null) ms += Long.parseLong(iso.group(3)) * 60_000;
            if (iso.group(4) != null) ms += Long.parseLong(iso.group(4)) * 1000;
            return ms;
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 10s, 500ms, 2m or PT10S)");
    }
}
