package herd.server.storage;

import java.util.Locale;

/** Byte counts as operators write them: a whole number with an optional K, M, G or T suffix (powers of 1024). Pure. */
public final class Sizes {
    private Sizes() {}

    private static final String SUFFIXES = "KMGT";

    /**
     * Parses {@code 10G}, {@code 512M}, {@code 1048576}. Throws {@link IllegalArgumentException} with
     * a message saying what is wrong when the text is not such a size.
     */
    public static long parse(String text, String what) {
        String trimmed = text == null ? "" : text.trim();
        String digits = trimmed;
        int shift = 0;
        if (!trimmed.isEmpty()) {
            int suffix = SUFFIXES.indexOf(Character.toUpperCase(trimmed.charAt(trimmed.length() - 1)));
            if (suffix >= 0) {
                shift = 10 * (suffix + 1);
                digits = trimmed.substring(0, trimmed.length() - 1);
            }
        }
        long number;
        try {
            number = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + text + "' is not a size: give a whole number of bytes with an "
                + "optional K, M, G or T suffix (powers of 1024), like 10G");
        }
        if (number < 0 || (shift > 0 && number > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException(what + " '" + text + "' is out of range: give a size from 0 to 8E");
        }
        return number << shift;
    }

    /** The largest exact unit: 10737418240 is "10G", 1536 is "1536" shown as "1.5K". */
    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + "B";
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < SUFFIXES.length() - 1) {
            value /= 1024;
            unit++;
        }
        String number = value == Math.rint(value) ? String.valueOf((long) value) : String.format(Locale.ROOT, "%.1f", value);
        return number + SUFFIXES.charAt(unit);
    }
}
