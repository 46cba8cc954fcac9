package herd.blockcore.recovery;

import herd.blockcore.BlockLimits;
import herd.blockcore.ObjectId;
import herd.blockcore.placement.Ring;
import herd.blockcore.volume.Volume;
import herd.blockcore.volume.VolumeCatalog;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plans recovery after a membership change (a new epoch), as Sheepdog's recovery does: every node of
 * the new placement must end up with a complete copy, fetched from a node that has one. Planning
 * starts from what nodes report they hold, not from what the old ring says they should hold, so a
 * plan made after partial progress lists only what is still missing, and re-planning is always safe.
 */
public final class RecoveryPlanner {
    private RecoveryPlanner() {}

    /**
     * The plan for moving from {@code oldRing} to {@code newRing}.
     *
     * @param copiesByObject each object of the catalog and its copies count (objects absent here are
     *                       not planned: reclaiming unknown objects is the reclaimer's job)
     * @param holders        for each object, the nodes that reported a complete copy
     */
    public static RecoveryPlan plan(
            Ring oldRing, Ring newRing, Map<ObjectId, Integer> copiesByObject, Map<ObjectId, Set<String>> holders) {
        List<CopyTask> copyTasks = new ArrayList<>();
        List<DeleteTask> deleteTasks = new ArrayList<>();
        List<ObjectId> lost = new ArrayList<>();
        List<UnplaceableObject> unplaceable = new ArrayList<>();
        for (Map.Entry<ObjectId, Integer> object : new TreeMap<>(copiesByObject).entrySet()) {
            ObjectId oid = object.getKey();
            int copies = object.getValue();
            Set<String> holding = holders.getOrDefault(oid, Set.of());
            Optional<String> refusal = newRing.refusal(copies);
            if (holding.isEmpty()) {
                lost.add(oid);
            } else if (refusal.isPresent()) {
                unplaceable.add(new UnplaceableObject(oid, copies, refusal.get()));
            } else {
                planObject(oid, copies, holding, oldRing, newRing, copyTasks, deleteTasks);
            }
        }
        return new RecoveryPlan(newRing.epoch(), copyTasks, deleteTasks, lost, unplaceable);
    }

    private static void planObject(ObjectId oid, int copies, Set<String> holding, Ring oldRing, Ring newRing,
            List<CopyTask> copyTasks, List<DeleteTask> deleteTasks) {
        List<String> newPlacement = newRing.placement(oid, copies);
        List<String> missing = newPlacement.stream().filter(node -> !holding.contains(node)).toList();
        if (!missing.isEmpty()) {
            List<String> sources = orderSources(oid, copies, holding, oldRing, newPlacement);
            missing.forEach(target -> copyTasks.add(new CopyTask(oid, target, sources)));
            return; // surplus copies stay until the new placement is complete: they may be the sources
        }
        new TreeSet<>(holding).stream()
            .filter(node -> !newPlacement.contains(node) && newRing.contains(node))
            .forEach(node -> deleteTasks.add(new DeleteTask(oid, node)));
    }

    /** Holders in the new placement first (they stay), then the old placement's, then the rest by name. */
    private static List<String> orderSources(
            ObjectId oid, int copies, Set<String> holding, Ring oldRing, List<String> newPlacement) {
        Set<String> ordered = new LinkedHashSet<>();
        newPlacement.stream().filter(holding::contains).forEach(ordered::add);
        if (oldRing.refusal(copies).isEmpty()) {
            oldRing.placement(oid, copies).stream().filter(holding::contains).forEach(ordered::add);
        }
        ordered.addAll(new TreeSet<>(holding));
        return List.copyOf(ordered);
    }

    /**
     * Whether {@code node} may leave {@code ring}: refused while it holds the last complete copy of an
     * object, or when the remaining nodes span fewer zones than some volume or snapshot has copies.
     */
    public static RemovalCheck canRemove(
            String node, Ring ring, VolumeCatalog catalog, Map<ObjectId, Set<String>> holders) {
        if (!ring.contains(node)) {
            return RemovalCheck.refuse("'" + node + "' is not a storage node of epoch " + ring.epoch() + " (see herd node list)");
        }
        List<ObjectId> lastCopies = new TreeMap<>(holders).entrySet().stream()
            .filter(entry -> entry.getValue().equals(Set.of(node)))
            .map(Map.Entry::getKey)
            .toList();
        if (!lastCopies.isEmpty()) {
            return RemovalCheck.refuse("node '" + node + "' holds the only complete copy of " + lastCopies.size()
                + " object(s), for example " + examples(lastCopies)
                + ": wait for recovery to copy them, or bring their other holders back");
        }
        Ring remaining = ring.withoutNode(node);
        int mostCopies = catalog.entries().stream().mapToInt(Volume::copies).max().orElse(0);
        if (mostCopies > remaining.zoneCount()) {
            List<String> needing = catalog.entries().stream()
                .filter(v -> v.copies() > remaining.zoneCount()).map(Volume::name).toList();
            return RemovalCheck.refuse("without node '" + node + "' the storage nodes span " + remaining.zoneCount()
                + " zone(s), but " + examples(needing) + " keep(s) up to " + mostCopies
                + " copies, one per zone: add a node in another zone first");
        }
        return RemovalCheck.allow();
    }

    private static String examples(List<?> items) {
        List<String> shown = items.stream().limit(BlockLimits.MAX_EXAMPLES_IN_MESSAGE).map(String::valueOf).toList();
        return String.join(", ", shown) + (items.size() > shown.size() ? ", ..." : "");
    }
}
