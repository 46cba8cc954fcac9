package herd.blockcore.placement;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties of the ring. Capacities are at least 256 GiB so every node has at least 256 vnodes:
 * a node's share of the ring then deviates from its capacity share by about 1/sqrt(256) = 6%, which
 * the tolerances below (30% of the share) cover many times over.
 */
class RingPropertiesTest {
    private static final long GIB = 1L << 30;
    private static final int SAMPLE_OBJECTS = 4000;

    record Cluster(List<StorageNode> nodes, StorageNode extra) {}

    @Provide
    Arbitrary<Cluster> clusters() {
        Arbitrary<Integer> nodeCount = Arbitraries.integers().between(2, 9);
        Arbitrary<Integer> zoneCount = Arbitraries.integers().between(1, 5);
        return Combinators.combine(nodeCount, zoneCount).flatAs((count, zones) -> {
            Arbitrary<StorageNode> node = Combinators.combine(
                    Arbitraries.integers().between(0, zones - 1), Arbitraries.longs().between(256, 2048))
                .as((zone, capacityGib) -> new StorageNode("?", "zone-" + zone, capacityGib * GIB));
            return node.list().ofSize(count + 1).map(list -> {
                List<StorageNode> named = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    named.add(new StorageNode("node-" + i, list.get(i).zone(), list.get(i).capacityBytes()));
                }
                return new Cluster(named.subList(0, count), named.get(count));
            });
        });
    }

    @Property(tries = 60)
    void placementIsDeterministicAndUsesDistinctNodesAndZones(@ForAll("clusters") Cluster cluster, @ForAll @IntRange(min = 1, max = 5) int copies) {
        Ring ring = Ring.of(1, cluster.nodes());
        Ring rebuilt = Ring.of(2, cluster.nodes().reversed());
        int placeable = Math.min(copies, ring.zoneCount());
        Map<String, String> zoneOf = cluster.nodes().stream().collect(Collectors.toMap(StorageNode::name, StorageNode::zone));
        for (int i = 0; i < 500; i++) {
            ObjectId oid = ObjectId.of(i % 7 + 1, i);
            List<String> placement = ring.placement(oid, placeable);
            assertThat(rebuilt.placement(oid, placeable)).isEqualTo(placement);
            assertThat(placement).hasSize(placeable).doesNotHaveDuplicates();
            assertThat(placement.stream().map(zoneOf::get).distinct().count()).isEqualTo(placeable);
        }
    }

    @Property(tries = 40)
    void addingANodeOnlyMovesCopiesOntoIt(@ForAll("clusters") Cluster cluster, @ForAll @IntRange(min = 1, max = 4) int copies) {
        Ring before = Ring.of(1, cluster.nodes());
        Ring after = before.withNode(cluster.extra());
        int placeable = Math.min(copies, before.zoneCount());
        for (int i = 0; i < 1000; i++) {
            ObjectId oid = ObjectId.of(3, i);
            Set<String> old = new HashSet<>(before.placement(oid, placeable));
            Set<String> now = new HashSet<>(after.placement(oid, placeable));
            Set<String> arrived = new HashSet<>(now);
            arrived.removeAll(old);
            // The new node takes the place of at most one member; nothing else moves.
            assertThat(arrived).isSubsetOf(Set.of(cluster.extra().name()));
            Set<String> stayed = new HashSet<>(old);
            stayed.retainAll(now);
            assertThat(stayed).hasSizeGreaterThanOrEqualTo(placeable - 1);
        }
    }

    @Property(tries = 40)
    void addingANodeMovesAboutItsCapacityShareOfSingleCopyObjects(@ForAll("clusters") Cluster cluster) {
        Ring before = Ring.of(1, cluster.nodes());
        Ring after = before.withNode(cluster.extra());
        int changed = 0;
        for (int i = 0; i < SAMPLE_OBJECTS; i++) {
            ObjectId oid = ObjectId.of(5, i);
            if (!before.placement(oid, 1).equals(after.placement(oid, 1))) {
                changed++;
            }
        }
        double totalCapacity = cluster.nodes().stream().mapToLong(StorageNode::capacityBytes).sum() + cluster.extra().capacityBytes();
        double share = cluster.extra().capacityBytes() / totalCapacity;
        assertThat((double) changed / SAMPLE_OBJECTS).isBetween(share * 0.7 - 0.02, share * 1.3 + 0.02);
    }

    @Property(tries = 40)
    void removingANodeOnlyMovesObjectsThatHadACopyOnIt(@ForAll("clusters") Cluster cluster, @ForAll @IntRange(min = 1, max = 4) int copies) {
        List<StorageNode> all = new ArrayList<>(cluster.nodes());
        all.add(cluster.extra());
        Ring before = Ring.of(1, all);
        Ring after = before.withoutNode(cluster.extra().name());
        int placeable = Math.min(copies, after.zoneCount());
        for (int i = 0; i < 1000; i++) {
            ObjectId oid = ObjectId.of(9, i);
            List<String> old = before.placement(oid, placeable);
            List<String> now = after.placement(oid, placeable);
            if (!old.contains(cluster.extra().name())) {
                assertThat(now).isEqualTo(old);
            } else {
                Set<String> kept = new HashSet<>(old);
                kept.remove(cluster.extra().name());
                assertThat(now).containsAll(kept);
            }
        }
    }

    @Property(tries = 30)
    void loadFollowsCapacity(@ForAll("clusters") Cluster cluster) {
        Ring ring = Ring.of(1, cluster.nodes());
        Map<String, Integer> load = new HashMap<>();
        int objects = 3 * SAMPLE_OBJECTS;
        for (int i = 0; i < objects; i++) {
            load.merge(ring.placement(ObjectId.of(i % 13 + 1, i), 1).getFirst(), 1, Integer::sum);
        }
        double totalCapacity = cluster.nodes().stream().mapToLong(StorageNode::capacityBytes).sum();
        for (StorageNode node : cluster.nodes()) {
            double share = node.capacityBytes() / totalCapacity;
            double measured = load.getOrDefault(node.name(), 0) / (double) objects;
            assertThat(measured).as("share of %s", node.name()).isBetween(share * 0.7 - 0.01, share * 1.3 + 0.01);
        }
    }

    @Property(tries = 30)
    void summarySharesMatchCapacityShares(@ForAll("clusters") Cluster cluster) {
        Ring ring = Ring.of(1, cluster.nodes());
        double totalCapacity = cluster.nodes().stream().mapToLong(StorageNode::capacityBytes).sum();
        for (NodeSummary line : ring.summary()) {
            double share = line.capacityBytes() / totalCapacity;
            assertThat(line.ringShare()).isBetween(share * 0.7, share * 1.3);
        }
    }
}
