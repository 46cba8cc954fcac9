package herd.blockcore.placement;

import herd.blockcore.BlockLimits;
import java.util.Objects;

/**
 * A node that stores objects: its name (as in the cluster state), its failure zone (a rack, a room,
 * a site: copies of one object never share a zone) and the capacity it offers, which sets its weight
 * on the ring.
 */
public record StorageNode(String name, String zone, long capacityBytes) {
    public StorageNode {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(zone, "zone");
        if (name.isBlank() || name.length() > BlockLimits.MAX_NODE_NAME_CHARS) {
            throw new IllegalArgumentException("storage node name '" + name + "' is not valid: use 1 to "
                + BlockLimits.MAX_NODE_NAME_CHARS + " characters, the node's name in the cluster");
        }
        if (zone.isBlank() || zone.length() > BlockLimits.MAX_NODE_NAME_CHARS) {
            throw new IllegalArgumentException("zone '" + zone + "' of storage node '" + name
                + "' is not valid: use 1 to " + BlockLimits.MAX_NODE_NAME_CHARS
                + " characters; give every node of one rack or site the same zone");
        }
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("storage node '" + name + "' has capacity " + capacityBytes
                + " bytes: give the bytes its object store may use, more than 0");
        }
    }
}
