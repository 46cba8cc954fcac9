package herd.control;

/**
 * A forwarded entry that the leader certainly did not append: it was not the leader, or the request
 * never reached it. Sending the entry again, elsewhere, cannot apply it twice.
 */
public class EntryNotAppendedException extends ControlPlaneException {
    private static final long serialVersionUID = 1L;

    public EntryNotAppendedException(String message) {
        super(message);
    }

    public EntryNotAppendedException(String message, Throwable cause) {
        super(message, cause);
    }
}
