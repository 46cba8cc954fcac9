package herd.control;

/**
 * No leader answered within the operation timeout (no quorum, network cut, servers down). For a
 * submitted command the outcome is unknown: it may or may not have been applied.
 */
public class ControlPlaneUnavailableException extends ControlPlaneException {
    private static final long serialVersionUID = 1L;

    public ControlPlaneUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
