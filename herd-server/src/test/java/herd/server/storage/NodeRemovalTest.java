package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the check before a storage node leaves counts as the only current copy of an object. */
class NodeRemovalTest {
    private static final ObjectId ONLY_ON_X = ObjectId.of(1, 0);
    private static final ObjectId ON_BOTH = ObjectId.of(1, 1);
    private static final ObjectId SURPLUS_ON_X = ObjectId.of(1, 2);

    /** Where the epoch places each object. */
    private static final Map<ObjectId, Set<String>> PLACED = Map.of(
        ONLY_ON_X, Set.of("x"), ON_BOTH, Set.of("x", "y"), SURPLUS_ON_X, Set.of("y"));

    @Test
    void aCopyHeldWhereTheEpochDoesNotPlaceItIsNotCountedAsAnotherCurrentCopy() {
        // y still holds a copy of ONLY_ON_X from an earlier epoch, not dropped yet: it may be out of date
        Map<String, List<ObjectId>> held = Map.of(
            "x", List.of(ONLY_ON_X, ON_BOTH, SURPLUS_ON_X),
            "y", List.of(ONLY_ON_X, ON_BOTH, SURPLUS_ON_X));

        assertThat(NodeStorage.onlyCurrentCopies(held, "x", (node, id) -> PLACED.get(id).contains(node))).isEqualTo(1);
        assertThat(NodeStorage.onlyCurrentCopies(held, "y", (node, id) -> PLACED.get(id).contains(node)))
            .as("y's surplus copy of ONLY_ON_X is not y's to lose, and SURPLUS_ON_X is placed on y alone").isEqualTo(1);
    }

    @Test
    void copiesPlacedOnTwoNodesLeaveEitherFreeToGo() {
        Map<String, List<ObjectId>> held = Map.of("x", List.of(ON_BOTH), "y", List.of(ON_BOTH));

        assertThat(NodeStorage.onlyCurrentCopies(held, "x", (node, id) -> PLACED.get(id).contains(node))).isZero();
        assertThat(NodeStorage.onlyCurrentCopies(held, "y", (node, id) -> PLACED.get(id).contains(node))).isZero();
    }
}
