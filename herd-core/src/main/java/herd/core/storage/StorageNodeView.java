package herd.core.storage;

import java.util.List;

/**
 * A storage node as the data path and {@code herd node list} see it.
 *
 * @param apiAddress where its object service answers (the node's API)
 * @param membership MEMBER, LOST or DOWN
 * @param cutOffBy   the nodes that cannot reach its data path and so keep it out of the storage epoch
 *                   although it is a member; empty when it is not cut off
 */
public record StorageNodeView(String name, String zone, long capacityBytes, String apiAddress, String membership,
                              List<String> cutOffBy) {
    public StorageNodeView {
        cutOffBy = cutOffBy == null ? List.of() : List.copyOf(cutOffBy);
    }

    public boolean isCutOff() {
        return !cutOffBy.isEmpty();
    }
}
