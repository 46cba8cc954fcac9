package herd.core.resource;

/**
 * What the cluster knows of a node's liveness, as the leader committed it. Only the leader changes
 * it, from heartbeats, fencing results and lease expiry, so every server agrees on it.
 */
public enum NodeMembership {
    /** Heartbeating: its executor runs what the coordinator sends it. */
    MEMBER,
    /**
     * Stopped heartbeating while it may still run resources: nothing of it is started elsewhere
     * until it is fenced, or its lease has provably expired, and it becomes {@link #DOWN}.
     */
    LOST,
    /** Known to run nothing: never joined, fenced, or its lease expired. Its history is erased. */
    DOWN
}
