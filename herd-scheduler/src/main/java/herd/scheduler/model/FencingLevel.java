package herd.scheduler.model;

import java.util.List;

/**
 * One level of the fencing topology (Pacemaker's {@code <fencing-level>}): to fence {@code target},
 * levels are tried by ascending {@code index}; a level succeeds only when every one of its
 * {@code devices} (stonith primitives' ids, run in the order given) succeeds.
 *
 * @param target a node name, or {@link #ALL_NODES} for a level that applies to every node without
 *               levels of its own (crm's {@code fencing_topology dev1 dev2} form)
 * @param index  1, 2, ...: the order in which the target's levels are tried
 */
public record FencingLevel(String target, int index, List<String> devices) {
    /** The target of levels that apply to every node (Pacemaker: {@code target-pattern=".*"}). */
    public static final String ALL_NODES = "*";

    public FencingLevel {
        devices = List.copyOf(devices);
    }

    public boolean forAllNodes() {
        return ALL_NODES.equals(target);
    }

    /** "node-a level 2", or "all nodes level 1", for messages. */
    public String describe() {
        return (forAllNodes() ? "all nodes" : target) + " level " + index;
    }
}
