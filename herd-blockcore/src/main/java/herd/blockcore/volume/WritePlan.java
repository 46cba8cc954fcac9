package herd.blockcore.volume;

/** The answer to a write request: where it goes ({@link WriteTarget}), or why it may not happen. */
public sealed interface WritePlan permits WriteTarget, WritePlan.Refused {

    /**
     * The id no longer takes writes: it became a snapshot (the volume continues under a new id; the
     * gateway looks the volume up again by name) or it was deleted.
     */
    record Refused(String reason) implements WritePlan {}
}
