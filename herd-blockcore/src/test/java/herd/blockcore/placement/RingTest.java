package herd.blockcore.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.blockcore.ObjectId;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RingTest {
    private static final long GIB = 1L << 30;

    private static final List<StorageNode> SIX_NODES_THREE_ZONES = List.of(
        new StorageNode("n1", "rack-a", 100 * GIB),
        new StorageNode("n2", "rack-a", 100 * GIB),
        new StorageNode("n3", "rack-b", 100 * GIB),
        new StorageNode("n4", "rack-b", 100 * GIB),
        new StorageNode("n5", "rack-c", 100 * GIB),
        new StorageNode("n6", "rack-c", 100 * GIB));

    @Test
    void placesCopiesOnDistinctNodesInDistinctZones() {
        Ring ring = Ring.of(1, SIX_NODES_THREE_ZONES);
        for (int index = 0; index < 500; index++) {
            List<String> placement = ring.placement(ObjectId.of(7, index), 3);
            assertThat(placement).hasSize(3).doesNotHaveDuplicates();
            Set<String> zones = placement.stream().map(n -> ring.node(n).orElseThrow().zone()).collect(Collectors.toSet());
            assertThat(zones).hasSize(3);
        }
    }

    @Test
    void refusesMoreCopiesThanZonesAndFewerThanOne() {
        Ring ring = Ring.of(1, SIX_NODES_THREE_ZONES);
        assertThat(ring.refusal(3)).isEmpty();
        assertThat(ring.refusal(4)).get().asString().contains("4 copies need 4 zones").contains("3 zone(s)");
        assertThat(ring.refusal(0)).get().asString().contains("at least 1 copy");
        assertThatThrownBy(() -> ring.placement(ObjectId.of(1, 0), 4))
            .isInstanceOf(PlacementRefusedException.class)
            .hasMessageContaining("cannot place object 0000000100000000");
        assertThat(Ring.of(0, List.of()).refusal(1)).isPresent();
    }

    @Test
    void vnodesFollowCapacityWithinBounds() {
        assertThat(Ring.vnodesFor(1)).isEqualTo(1);
        assertThat(Ring.vnodesFor(GIB)).isEqualTo(1);
        assertThat(Ring.vnodesFor(300 * GIB)).isEqualTo(300);
        assertThat(Ring.vnodesFor(1L << 50)).isEqualTo(Ring.MAX_VNODES_PER_NODE);
    }

    @Test
    void summaryListsVnodesCapacityAndSharesSummingToOne() {
        Ring ring = Ring.of(3, List.of(new StorageNode("big", "z1", 300 * GIB), new StorageNode("small", "z2", 100 * GIB)));
        List<NodeSummary> summary = ring.summary();
        assertThat(summary).extracting(NodeSummary::name).containsExactly("big", "small");
        assertThat(summary).extracting(NodeSummary::vnodes).containsExactly(300, 100);
        assertThat(summary.stream().mapToDouble(NodeSummary::ringShare).sum()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(summary.get(0).ringShare()).isBetween(0.6, 0.9);
        assertThat(ring.vnodeCount()).isEqualTo(400);
    }

    @Test
    void singleNodeOwnsTheWholeRing() {
        Ring ring = Ring.of(0, List.of(new StorageNode("only", "z", 1)));
        assertThat(ring.summary().getFirst().ringShare()).isEqualTo(1.0);
        assertThat(ring.placement(ObjectId.of(1, 1), 1)).containsExactly("only");
    }

    @Test
    void rejectsDuplicateNodesAndBadNodes() {
        assertThatThrownBy(() -> Ring.of(1, List.of(new StorageNode("a", "z", GIB), new StorageNode("a", "y", GIB))))
            .hasMessageContaining("'a' appears twice");
        assertThatThrownBy(() -> new StorageNode("a", "z", 0)).hasMessageContaining("more than 0");
        assertThatThrownBy(() -> new StorageNode("", "z", 1)).hasMessageContaining("name '' is not valid");
        assertThatThrownBy(() -> new StorageNode("a", " ", 1)).hasMessageContaining("zone ' '");
        assertThatThrownBy(() -> Ring.of(-1, List.of())).hasMessageContaining("negative");
    }

    @Test
    void hashIsPinnedSoEveryVersionBuildsTheSameRing() {
        // Values computed by an independent implementation of FNV-1a 64 + fmix64: if they change,
        // every object of every cluster would move.
        assertThat(Hashing.vnodeHash("n1", 0)).isEqualTo(0x888af6a8b08899c2L);
        assertThat(Hashing.objectHash(ObjectId.of(1, 0).value())).isEqualTo(0x2e1ad68a92034c44L);
        assertThat(Ring.of(1, SIX_NODES_THREE_ZONES).placement(ObjectId.of(1, 0), 3))
            .isEqualTo(Ring.of(9, SIX_NODES_THREE_ZONES.reversed()).placement(ObjectId.of(1, 0), 3));
    }

    @Test
    void withNodeAndWithoutNodeAdvanceTheEpoch() {
        Ring ring = Ring.of(4, SIX_NODES_THREE_ZONES);
        assertThat(ring.withNode(new StorageNode("n7", "rack-d", GIB)).epoch()).isEqualTo(5);
        Ring smaller = ring.withoutNode("n1");
        assertThat(smaller.epoch()).isEqualTo(5);
        assertThat(smaller.contains("n1")).isFalse();
        assertThat(smaller.zones()).containsExactly("rack-a", "rack-b", "rack-c");
    }
}
