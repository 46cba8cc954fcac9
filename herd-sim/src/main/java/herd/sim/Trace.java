package herd.sim;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HexFormat;

/**
 * The run's trace: one line per event (and per notable step inside it). Keeps the last
 * {@link #TAIL_LINES} lines for failure reports, a digest of every line to compare replays, and
 * optionally the whole text.
 */
final class Trace {
    /** Lines a failure report shows: enough to see the transition that went wrong. */
    static final int TAIL_LINES = 80;

    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final MessageDigest digest;
    private final StringBuilder full;
    private long lineCount;

    Trace(boolean keepFull) {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        full = keepFull ? new StringBuilder() : null;
    }

    void line(String text) {
        lineCount++;
        digest.update(text.getBytes(StandardCharsets.UTF_8));
        digest.update((byte) '\n');
        if (full != null) {
            full.append(text).append('\n');
        }
        tail.addLast(text);
        if (tail.size() > TAIL_LINES) {
            tail.removeFirst();
        }
    }

    String tail() {
        return String.join("\n", tail);
    }

    /** The whole trace, or null when it was not kept. */
    String full() {
        return full == null ? null : full.toString();
    }

    long lineCount() {
        return lineCount;
    }

    /** Hex SHA-256 of every line so far; ends the digest, so call it once, at the end. */
    String finish() {
        return HexFormat.of().formatHex(digest.digest());
    }
}
