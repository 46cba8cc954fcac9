package herd.server.storage;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which nodes this node counts as unreachable, from the outcomes of its probes: a node becomes
 * unreachable after {@link #PROBES_TO_CHANGE} failed probes in a row and reachable again after as
 * many answered ones, so one slow answer or one lucky one does not flip it. Not thread-safe: one
 * watcher thread records.
 */
final class Reachability {
    static final int PROBES_TO_CHANGE = 3;

    /** What a probe's outcome changed. */
    enum Change { SAME, LOST, FOUND }

    private final Set<String> unreachable = new TreeSet<>();
    /** Outcomes in a row that disagree with the node's current standing. */
    private final Map<String, Integer> against = new HashMap<>();

    Change record(String node, boolean answered) {
        boolean standing = !unreachable.contains(node);
        if (answered == standing) {
            against.remove(node);
            return Change.SAME;
        }
        int inARow = against.merge(node, 1, Integer::sum);
        if (inARow < PROBES_TO_CHANGE) {
            return Change.SAME;
        }
        against.remove(node);
        if (answered) {
            unreachable.remove(node);
            return Change.FOUND;
        }
        unreachable.add(node);
        return Change.LOST;
    }

    /** Forgets nodes that are no longer watched (down, or not storage nodes any more). */
    void retain(Collection<String> watched) {
        unreachable.retainAll(watched);
        against.keySet().retainAll(watched);
    }

    /** The unreachable nodes now, in name order. */
    Set<String> unreachable() {
        return new TreeSet<>(unreachable);
    }
}
