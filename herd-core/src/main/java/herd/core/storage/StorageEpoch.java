package herd.core.storage;

import herd.blockcore.placement.Ring;
import herd.blockcore.placement.StorageNode;
import java.util.List;

/**
 * One storage epoch: the storage nodes that were up, with their zones and capacities. A new epoch
 * starts whenever that set changes; its ring says where every object's copies belong meanwhile.
 */
public record StorageEpoch(long epoch, List<StorageNode> members) {
    public StorageEpoch {
        members = members == null ? List.of() : List.copyOf(members);
    }

    public Ring ring() {
        return Ring.of(epoch, members);
    }

    public boolean hasMember(String node) {
        return members.stream().anyMatch(member -> member.name().equals(node));
    }
}
