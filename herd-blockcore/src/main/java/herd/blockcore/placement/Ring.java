package herd.blockcore.placement;

import herd.blockcore.ObjectId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The placement ring of one epoch: consistent hashing with virtual nodes (vnodes) weighted by
 * capacity, and zones, as in Sheepdog. Immutable; build a new one for every membership change.
 *
 * <p>Each node gets one vnode per {@link #VNODE_UNIT_BYTES} of capacity, at least 1 and at most
 * {@link #MAX_VNODES_PER_NODE}. Vnode {@code i} of node {@code n} sits at the hash of "n#i"; an object
 * sits at the hash of its id (see {@link Hashing}). The copies of an object go to the first nodes met
 * walking clockwise from the object's position, skipping a node already chosen and a node whose zone
 * already holds a copy. Because the walk only ever skips, adding a node changes a placement only by
 * putting the new node in place of one member, and removing a node changes only the placements it
 * was in.
 */
public final class Ring {
    /** Capacity that earns one vnode: a node's share of the ring follows its capacity in GiB. */
    public static final long VNODE_UNIT_BYTES = 1L << 30;

    /**
     * Most vnodes of one node (so a 4 TiB node or larger counts as 4 TiB): bounds the ring's size and
     * the cost of building it, while leaving enough vnodes per node for an even spread.
     */
    public static final int MAX_VNODES_PER_NODE = 4096;

    /** Most storage nodes on one ring. */
    public static final int MAX_NODES = 1024;

    private final long epoch;
    private final List<StorageNode> nodes; // sorted by name; a node's position is its number below
    private final int[] zoneOfNode;
    private final int zoneCount;
    private final long[] vnodePositions; // sorted as unsigned numbers
    private final int[] nodeOfVnode;

    private Ring(long epoch, List<StorageNode> nodes) {
        this.epoch = epoch;
        this.nodes = nodes;
        this.zoneOfNode = numberZones(nodes);
        this.zoneCount = (int) Arrays.stream(zoneOfNode).distinct().count();
        List<long[]> vnodes = collectVnodes(nodes); // {position, node number, vnode index}
        this.vnodePositions = new long[vnodes.size()];
        this.nodeOfVnode = new int[vnodes.size()];
        for (int i = 0; i < vnodes.size(); i++) {
            vnodePositions[i] = vnodes.get(i)[0];
            nodeOfVnode[i] = (int) vnodes.get(i)[1];
        }
    }

    /**
     * The ring of {@code epoch} over these nodes. Throws {@link IllegalArgumentException} for a
     * negative epoch, two nodes of one name or more than {@link #MAX_NODES} nodes: the cluster state
     * never holds such a membership. An empty ring is allowed; it places nothing.
     */
    public static Ring of(long epoch, Collection<StorageNode> nodes) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch " + epoch + " is negative; epochs count up from 0");
        }
        if (nodes.size() > MAX_NODES) {
            throw new IllegalArgumentException(nodes.size() + " storage nodes is more than the ring's maximum of " + MAX_NODES);
        }
        List<StorageNode> sorted = new ArrayList<>(nodes);
        sorted.sort(Comparator.comparing(StorageNode::name));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
                throw new IllegalArgumentException("storage node '" + sorted.get(i).name()
                    + "' appears twice; each node joins the ring once");
            }
        }
        return new Ring(epoch, List.copyOf(sorted));
    }

    /** Vnodes a node of this capacity gets. */
    public static int vnodesFor(long capacityBytes) {
        long units = capacityBytes / VNODE_UNIT_BYTES;
        return (int) Math.max(1, Math.min(MAX_VNODES_PER_NODE, units));
    }

    private static int[] numberZones(List<StorageNode> nodes) {
        Map<String, Integer> zoneNumbers = new HashMap<>();
        int[] zoneOfNode = new int[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            zoneOfNode[i] = zoneNumbers.computeIfAbsent(nodes.get(i).zone(), z -> zoneNumbers.size());
        }
        return zoneOfNode;
    }

    private static List<long[]> collectVnodes(List<StorageNode> nodes) {
        List<long[]> vnodes = new ArrayList<>();
        for (int node = 0; node < nodes.size(); node++) {
            int count = vnodesFor(nodes.get(node).capacityBytes());
            for (int i = 0; i < count; i++) {
                vnodes.add(new long[] {Hashing.vnodeHash(nodes.get(node).name(), i), node, i});
            }
        }
        // Ties between positions (rare) are broken by node name and vnode index: still deterministic.
        vnodes.sort((a, b) -> {
            int byPosition = Long.compareUnsigned(a[0], b[0]);
            if (byPosition != 0) {
                return byPosition;
            }
            return a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[2], b[2]);
        });
        return vnodes;
    }

    public long epoch() {
        return epoch;
    }

    /** The members, sorted by name. */
    public List<StorageNode> nodes() {
        return nodes;
    }

    public Optional<StorageNode> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    public boolean contains(String nodeName) {
        return node(nodeName).isPresent();
    }

    public SortedSet<String> zones() {
        SortedSet<String> zones = new TreeSet<>();
        nodes.forEach(n -> zones.add(n.zone()));
        return Collections.unmodifiableSortedSet(zones);
    }

    public int zoneCount() {
        return zoneCount;
    }

    public int vnodeCount() {
        return vnodePositions.length;
    }

    /** This ring with one more node, in the next epoch. */
    public Ring withNode(StorageNode node) {
        List<StorageNode> next = new ArrayList<>(nodes);
        next.add(node);
        return of(epoch + 1, next);
    }

    /** This ring without the named node, in the next epoch. */
    public Ring withoutNode(String nodeName) {
        return of(epoch + 1, nodes.stream().filter(n -> !n.name().equals(nodeName)).toList());
    }

    /**
     * Why {@code copies} copies cannot be placed on this ring, or empty when they can: at least one
     * copy, and no more copies than zones.
     */
    public Optional<String> refusal(int copies) {
        if (copies < 1) {
            return Optional.of("an object needs at least 1 copy, not " + copies);
        }
        if (copies > zoneCount) {
            return Optional.of(copies + " copies need " + copies + " zones, but the storage nodes of epoch " + epoch
                + " are in " + zoneCount + " zone(s) " + zones()
                + ": add nodes in other zones, or use fewer copies");
        }
        return Optional.empty();
    }

    /**
     * The nodes that hold the copies of {@code oid}, primary first: {@code copies} distinct nodes in
     * distinct zones.
     *
     * @throws PlacementRefusedException when {@link #refusal(int)} says no
     */
    public List<String> placement(ObjectId oid, int copies) {
        Optional<String> refusal = refusal(copies);
        if (refusal.isPresent()) {
            throw new PlacementRefusedException("cannot place object " + oid + ": " + refusal.get());
        }
        boolean[] nodeTaken = new boolean[nodes.size()];
        boolean[] zoneTaken = new boolean[zoneCount];
        List<String> chosen = new ArrayList<>(copies);
        int start = firstVnodeAtOrAfter(Hashing.objectHash(oid.value()));
        // copies <= zoneCount and every zone has a vnode, so one lap always finds enough nodes.
        for (int step = 0; step < vnodePositions.length && chosen.size() < copies; step++) {
            int node = nodeOfVnode[(start + step) % vnodePositions.length];
            if (!nodeTaken[node] && !zoneTaken[zoneOfNode[node]]) {
                nodeTaken[node] = true;
                zoneTaken[zoneOfNode[node]] = true;
                chosen.add(nodes.get(node).name());
            }
        }
        return List.copyOf(chosen);
    }

    /** Index of the first vnode at or clockwise after {@code position}, wrapping to 0. */
    private int firstVnodeAtOrAfter(long position) {
        int low = 0;
        int high = vnodePositions.length;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (Long.compareUnsigned(vnodePositions[middle], position) < 0) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        return low == vnodePositions.length ? 0 : low;
    }

    /**
     * One line per node for {@code herd node list}: vnodes, capacity, and the share of the hash space
     * its vnodes own (a vnode owns the arc from the previous vnode, exclusive, to itself).
     */
    public List<NodeSummary> summary() {
        double[] share = new double[nodes.size()];
        int count = vnodePositions.length;
        for (int i = 0; i < count; i++) {
            long previous = vnodePositions[(i + count - 1) % count];
            long arc = vnodePositions[i] - previous; // unsigned distance, wrapping around the ring
            double arcShare = count == 1 ? 1.0 : unsignedToDouble(arc) / 0x1p64;
            share[nodeOfVnode[i]] += arcShare;
        }
        List<NodeSummary> lines = new ArrayList<>();
        for (int node = 0; node < nodes.size(); node++) {
            StorageNode n = nodes.get(node);
            lines.add(new NodeSummary(n.name(), n.zone(), n.capacityBytes(), vnodesFor(n.capacityBytes()), share[node]));
        }
        return List.copyOf(lines);
    }

    private static double unsignedToDouble(long value) {
        double high = (double) (value >>> 1) * 2.0;
        return high + (value & 1L);
    }

    @Override
    public String toString() {
        return "Ring[epoch=" + epoch + ", nodes=" + nodes.size() + ", zones=" + zoneCount + ", vnodes=" + vnodePositions.length + "]";
    }
}
