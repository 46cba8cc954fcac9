package herd.core;

/**
 * Stable error codes shared by the state machine, the API and the CLI. The wire form is the
 * lower-case name; the HTTP status belongs to the API layer.
 */
public enum ErrorCode {
    BAD_REQUEST,
    KEY_EMPTY,
    KEY_TOO_LARGE,
    KEY_INVALID,
    VALUE_TOO_LARGE,
    BAD_REVISION,
    KEY_NOT_FOUND,
    REVISION_MISMATCH,
    REVISION_COMPACTED,
    NAME_INVALID,
    ADDRESS_INVALID,
    NODE_EXISTS,
    NODE_NOT_FOUND,
    NOT_FOUND,
    UNAUTHORIZED,
    NO_LEADER,
    UNAVAILABLE,
    MEMBERSHIP_REFUSED,
    /** The request contradicts the current state (a name taken, a volume attached elsewhere). */
    CONFLICT,
    INTERNAL;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ErrorCode fromWireName(String wireName) {
        return valueOf(wireName.toUpperCase(java.util.Locale.ROOT));
    }
}
