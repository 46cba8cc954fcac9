/**
 * Placement: which nodes hold the copies of an object.
 *
 * <h2>The ring</h2>
 * {@link herd.blockcore.placement.Ring} is consistent hashing with virtual nodes, as in Sheepdog.
 * A node gets one vnode per {@link herd.blockcore.placement.Ring#VNODE_UNIT_BYTES} (1 GiB) of
 * capacity, at least 1 and at most {@link herd.blockcore.placement.Ring#MAX_VNODES_PER_NODE}; a
 * node's share of the hash space, and so of the data, follows its capacity, and with hundreds of
 * vnodes per node the spread stays within a few percent. Vnode {@code i} of node {@code n} sits at
 * the 64-bit hash of the UTF-8 string {@code "n#i"}; an object sits at the hash of its id's 8 bytes,
 * big-endian. The hash is FNV-1a 64 followed by MurmurHash3's fmix64 finaliser: FNV-1a is what
 * Sheepdog uses and is trivial to reimplement, and the finaliser fixes its weak mixing of short keys
 * that differ in their last bytes. Both are fixed by published constants, so every node and every
 * version computes the same ring from the same membership.
 *
 * <h2>Copies and zones</h2>
 * The copies of an object go to the first nodes met walking clockwise from the object's position,
 * skipping a node already chosen and a node in a zone that already holds a copy; the first is the
 * primary. So copies always sit in distinct zones, and an object asking for more copies than there
 * are zones is refused ({@link herd.blockcore.placement.Ring#refusal(int)} as a value, or
 * {@link herd.blockcore.placement.PlacementRefusedException} from
 * {@link herd.blockcore.placement.Ring#placement}).
 *
 * <h2>Why membership changes move little</h2>
 * The walk only ever skips. Adding a node inserts its vnodes: a walk that meets one before it is done
 * takes the new node, and from then on only skips what the old walk would have taken from the new
 * node's zone (or stops one node earlier). So a placement changes by the new node replacing exactly
 * one member, and only for about the new node's capacity share of objects. Removing a node is the
 * reverse: only placements that contained it change, and their other members stay.
 */
package herd.blockcore.placement;
