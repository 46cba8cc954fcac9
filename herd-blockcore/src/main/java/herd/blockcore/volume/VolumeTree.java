package herd.blockcore.volume;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of {@code herd volume tree} and the entries that read through it. Deleted snapshots that
 * are still kept appear (with {@link Volume#deleted()} set) so the tree stays connected.
 */
public record VolumeTree(Volume volume, List<VolumeTree> children) {
    public VolumeTree {
        children = List.copyOf(children);
    }

    static List<VolumeTree> of(VolumeCatalog catalog) {
        Map<Integer, List<Volume>> childrenByParent = new HashMap<>();
        List<Volume> roots = new ArrayList<>();
        for (Volume entry : catalog.entries()) { // in id order, so children come out oldest first
            if (entry.hasParent()) {
                childrenByParent.computeIfAbsent(entry.parentId(), p -> new ArrayList<>()).add(entry);
            } else {
                roots.add(entry);
            }
        }
        return roots.stream().map(root -> build(root, childrenByParent)).toList();
    }

    private static VolumeTree build(Volume entry, Map<Integer, List<Volume>> childrenByParent) {
        List<VolumeTree> children = childrenByParent.getOrDefault(entry.id(), List.of()).stream()
            .map(child -> build(child, childrenByParent))
            .toList();
        return new VolumeTree(entry, children);
    }
}
