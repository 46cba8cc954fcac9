package herd.blockcore.placement;

/**
 * One node's line in {@code herd node list}: its weight on the ring and the share of the hash space
 * its virtual nodes own (the share of single-copy objects it is expected to hold).
 */
public record NodeSummary(String name, String zone, long capacityBytes, int vnodes, double ringShare) {}
