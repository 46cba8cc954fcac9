package herd.blockcore.placement;

/**
 * Thrown by {@link Ring#placement} when the asked number of copies cannot be placed: fewer than one,
 * or more than the ring has zones. Callers that can meet this in operation (a zone was lost) ask
 * {@link Ring#refusal(int)} first and handle the answer as a value.
 */
public final class PlacementRefusedException extends RuntimeException {
    public PlacementRefusedException(String message) {
        super(message);
    }
}
