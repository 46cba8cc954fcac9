package herd.core.storage;

import java.util.List;

/**
 * A storage node as the data path and {@code herd node list} see it.
 *
 * @param apiAddress where its object service answers (the node's API)
 * @param membership MEMBER, LOST or DOWN
 * @param cutOffBy   the nodes that cannot reach its data path and so keep it out of the storage epoch
 *                   although it is a member; empty when it is not cut off
 * @param stall      the node's own word that its store does not answer, and why; empty when it answers
 */
public record StorageNodeView(String name, String zone, long capacityBytes, String apiAddress, String membership,
                              List<String> cutOffBy, String stall) {
    public StorageNodeView {
        cutOffBy = cutOffBy == null ? List.of() : List.copyOf(cutOffBy);
        stall = stall == null ? "" : stall;
    }

    /** A node whose store answers. */
    public StorageNodeView(String name, String zone, long capacityBytes, String apiAddress, String membership,
                           List<String> cutOffBy) {
        this(name, zone, capacityBytes, apiAddress, membership, cutOffBy, "");
    }

    public boolean isCutOff() {
        return !cutOffBy.isEmpty();
    }
}
