package herd.core.kv;

import herd.core.ErrorCode;
import herd.core.Limits;
import herd.core.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** What makes a key or value acceptable. Checked before a command enters the log, and again on apply. */
public final class KeyRules {
    private KeyRules() {}

    public static Optional<Rejection> checkKey(String key) {
        if (key == null || key.isEmpty()) {
            return Optional.of(new Rejection(ErrorCode.KEY_EMPTY, "the key is empty: give a key of 1 to "
                + Limits.MAX_KEY_BYTES + " bytes"));
        }
        int keyBytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (keyBytes > Limits.MAX_KEY_BYTES) {
            return Optional.of(new Rejection(ErrorCode.KEY_TOO_LARGE, "the key is " + keyBytes
                + " bytes; the limit is " + Limits.MAX_KEY_BYTES + " bytes: use a shorter key"));
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isISOControl(c)) {
                return Optional.of(new Rejection(ErrorCode.KEY_INVALID, "the key contains control character U+"
                    + String.format("%04X", (int) c) + " at position " + i + ": keys are printable UTF-8 text"));
            }
            if (Character.isSurrogate(c) && !validSurrogatePair(key, i)) {
                return Optional.of(new Rejection(ErrorCode.KEY_INVALID, "the key contains an unpaired surrogate at position "
                    + i + ": keys are valid UTF-8 text"));
            }
            if (Character.isHighSurrogate(c)) {
                i++;
            }
        }
        return Optional.empty();
    }

    public static Optional<Rejection> checkValue(byte[] value) {
        if (value == null) {
            return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, "the value is missing: give a value (it may be empty)"));
        }
        if (value.length > Limits.MAX_VALUE_BYTES) {
            return Optional.of(new Rejection(ErrorCode.VALUE_TOO_LARGE, "the value is " + value.length
                + " bytes; the limit is " + Limits.MAX_VALUE_BYTES + " bytes (1 MiB): store large data elsewhere and keep a reference here"));
        }
        return Optional.empty();
    }

    public static Optional<Rejection> checkExpectedRevision(Long expectRevision) {
        if (expectRevision != null && expectRevision < 0) {
            return Optional.of(new Rejection(ErrorCode.BAD_REVISION, "expected revision " + expectRevision
                + " is negative: give the key's modRevision, or 0 for 'only if the key does not exist'"));
        }
        return Optional.empty();
    }

    private static boolean validSurrogatePair(String text, int index) {
        return Character.isHighSurrogate(text.charAt(index))
            && index + 1 < text.length()
            && Character.isLowSurrogate(text.charAt(index + 1));
    }
}
