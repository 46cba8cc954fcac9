package herd.core.volume;

import herd.blockcore.volume.VolumeTree;
import java.util.List;

/** One entry of {@code herd volume tree} with the entries that read through it. */
public record VolumeTreeNode(VolumeRecord volume, List<VolumeTreeNode> children) {
    public VolumeTreeNode {
        children = List.copyOf(children);
    }

    public static VolumeTreeNode of(VolumeTree tree) {
        return new VolumeTreeNode(VolumeRecord.of(tree.volume()), tree.children().stream().map(VolumeTreeNode::of).toList());
    }
}
