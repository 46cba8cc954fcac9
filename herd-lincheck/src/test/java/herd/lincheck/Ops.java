package herd.lincheck;

import java.util.Optional;

/** Short constructors for hand-written histories on key "k" (or a given key). */
final class Ops {
    static final String KEY = "k";

    private Ops() {}

    static Operation put(int client, String value, long invoked, long completed) {
        return new Operation(client, KEY, Action.put(value), Outcome.ok(), invoked, completed);
    }

    static Operation put(String key, int client, String value, long invoked, long completed) {
        return new Operation(client, key, Action.put(value), Outcome.ok(), invoked, completed);
    }

    static Operation putIndeterminate(int client, String value, long invoked, long gaveUp) {
        return new Operation(client, KEY, Action.put(value), Outcome.indeterminate("timed out"), invoked, gaveUp);
    }

    static Operation putRejected(int client, String value, long invoked, long completed) {
        return new Operation(client, KEY, Action.put(value), Outcome.rejected("HTTP 400"), invoked, completed);
    }

    /** A get that returned {@code value}; null means the key was absent. */
    static Operation get(int client, String value, long invoked, long completed) {
        return get(KEY, client, value, invoked, completed);
    }

    static Operation get(String key, int client, String value, long invoked, long completed) {
        Outcome outcome = value == null ? Outcome.readAbsent() : Outcome.read(value);
        return new Operation(client, key, Action.get(), outcome, invoked, completed);
    }

    static Operation delete(int client, long invoked, long completed) {
        return new Operation(client, KEY, Action.delete(), Outcome.ok(), invoked, completed);
    }

    /** A successful cas; a null {@code expected} means "only if absent". */
    static Operation casOk(int client, String expected, String newValue, long invoked, long completed) {
        Action cas = new Action.Cas(Optional.ofNullable(expected), newValue);
        return new Operation(client, KEY, cas, Outcome.ok(), invoked, completed);
    }

    static Operation casMismatch(int client, String expected, String newValue, long invoked, long completed) {
        return new Operation(client, KEY, Action.cas(expected, newValue), Outcome.mismatch(), invoked, completed);
    }

    static Operation casIndeterminate(int client, String expected, String newValue, long invoked, long gaveUp) {
        return new Operation(client, KEY, Action.cas(expected, newValue), Outcome.indeterminate("connection reset"),
            invoked, gaveUp);
    }
}
