package herd.scheduler.cib;

/** The CIB text cannot be read into the model; the message names the element and the problem. */
public class CibException extends IllegalArgumentException {
    public CibException(String message) {
        super(message);
    }
}
