package herd.core.storage;

/**
 * A storage node as the data path and {@code herd node list} see it.
 *
 * @param apiAddress where its object service answers (the node's API)
 * @param membership MEMBER, LOST or DOWN
 */
public record StorageNodeView(String name, String zone, long capacityBytes, String apiAddress, String membership) {}
