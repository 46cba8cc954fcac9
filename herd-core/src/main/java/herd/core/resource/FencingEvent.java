package herd.core.resource;

/**
 * The result of one attempt to fence a node, kept for {@code herd status} and the fencing history.
 *
 * @param target     the node that was to be fenced
 * @param succeeded  true when a fence device confirmed it; a failure is retried, never assumed
 * @param detail     which device or level did it, or why every level failed
 */
public record FencingEvent(String target, boolean succeeded, String detail, long epochMillis) {}
