package herd.sim;

/** A safety or liveness rule of the cluster was broken in a run. */
public final class InvariantViolation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvariantViolation(String message) {
        super(message);
    }
}
