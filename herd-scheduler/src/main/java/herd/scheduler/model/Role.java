package herd.scheduler.model;

import java.util.Locale;

/** A resource's role, in Pacemaker's order (Stopped < Started < Unpromoted < Promoted). */
public enum Role {
    UNKNOWN("Unknown"), STOPPED("Stopped"), STARTED("Started"), UNPROMOTED("Unpromoted"), PROMOTED("Promoted");

    private final String text;

    Role(String text) {
        this.text = text;
    }

    /** The name Pacemaker prints. */
    public String text() {
        return text;
    }

    /** Parses a role name, accepting the legacy "Master"/"Slave" spellings. */
    public static Role parse(String s) {
        if (s == null || s.isBlank() || s.trim().equals("#default")) return null;
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "stopped" -> STOPPED;
            case "started" -> STARTED;
            case "unpromoted", "slave" -> UNPROMOTED;
            case "promoted", "master" -> PROMOTED;
            case "unknown" -> UNKNOWN;
            default -> throw new IllegalArgumentException("unknown role '" + s
                    + "' (expected Stopped, Started, Unpromoted or Promoted)");
        };
    }
}
