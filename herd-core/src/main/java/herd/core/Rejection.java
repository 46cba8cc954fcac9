package herd.core;

/** Why a command or request was refused: a stable code and a message that says what to do. */
public record Rejection(ErrorCode code, String message) {
    public Rejection {
        java.util.Objects.requireNonNull(code);
        java.util.Objects.requireNonNull(message);
    }
}
