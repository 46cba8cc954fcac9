package herd.control;

/**
 * A membership change was refused before anything changed: another change is in flight, a server
 * is unreachable or lagging, the name is already (or not) a member, or there is no leader. The
 * message says which and what to do; retrying later is safe.
 */
public class MembershipChangeRefusedException extends ControlPlaneException {
    private static final long serialVersionUID = 1L;

    public MembershipChangeRefusedException(String message) {
        super(message);
    }

    public MembershipChangeRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
