package herd.blockcore.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import herd.blockcore.placement.Ring;
import herd.blockcore.placement.StorageNode;
import herd.blockcore.volume.VolumeCatalog;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RecoveryPlannerTest {
    private static final long GIB = 1L << 30;
    private static final Ring THREE_ZONES = Ring.of(1, List.of(
        new StorageNode("a1", "za", 100 * GIB), new StorageNode("a2", "za", 100 * GIB),
        new StorageNode("b1", "zb", 100 * GIB), new StorageNode("b2", "zb", 100 * GIB),
        new StorageNode("c1", "zc", 100 * GIB)));

    private static Map<ObjectId, Integer> objects(int count, int copies) {
        Map<ObjectId, Integer> objects = new HashMap<>();
        for (int i = 0; i < count; i++) {
            objects.put(ObjectId.of(1, i), copies);
        }
        return objects;
    }

    private static Map<ObjectId, Set<String>> placedOn(Ring ring, Map<ObjectId, Integer> objects) {
        Map<ObjectId, Set<String>> holders = new HashMap<>();
        objects.forEach((oid, copies) -> holders.put(oid, new HashSet<>(ring.placement(oid, copies))));
        return holders;
    }

    @Test
    void nothingToDoWhenTheRingIsUnchanged() {
        Map<ObjectId, Integer> objects = objects(200, 2);
        RecoveryPlan plan = RecoveryPlanner.plan(THREE_ZONES, THREE_ZONES, objects, placedOn(THREE_ZONES, objects));
        assertThat(plan.isEmpty()).isTrue();
        assertThat(plan.lost()).isEmpty();
        assertThat(plan.epoch()).isEqualTo(1);
    }

    @Test
    void aJoiningNodeReceivesCopiesFromCurrentHoldersAndOldCopiesGoOnlyOnceComplete() {
        Map<ObjectId, Integer> objects = objects(300, 2);
        Map<ObjectId, Set<String>> holders = placedOn(THREE_ZONES, objects);
        Ring grown = THREE_ZONES.withNode(new StorageNode("d1", "zd", 100 * GIB));
        RecoveryPlan plan = RecoveryPlanner.plan(THREE_ZONES, grown, objects, holders);
        assertThat(plan.copies()).isNotEmpty().allSatisfy(task -> {
            assertThat(task.target()).isEqualTo("d1");
            assertThat(task.sources()).isNotEmpty().allMatch(source -> holders.get(task.oid()).contains(source));
        });
        assertThat(plan.deletions()).as("no placement is complete before d1 has its copies").isEmpty();
        assertThat(plan.epoch()).isEqualTo(2);

        plan.copies().forEach(task -> holders.get(task.oid()).add(task.target()));
        RecoveryPlan cleanup = RecoveryPlanner.plan(THREE_ZONES, grown, objects, holders);
        assertThat(cleanup.copies()).isEmpty();
        assertThat(cleanup.deletions()).hasSameSizeAs(plan.copies());
    }

    @Test
    void sourcesPreferNodesOfTheNewPlacement() {
        ObjectId oid = ObjectId.of(4, 2);
        Ring grown = THREE_ZONES.withNode(new StorageNode("d1", "zd", 100 * GIB));
        List<String> newPlacement = grown.placement(oid, 3);
        Set<String> holding = new HashSet<>(THREE_ZONES.placement(oid, 3));
        holding.add("a2".equals(newPlacement.getFirst()) ? "a1" : "a2");
        Set<String> missing = new HashSet<>(newPlacement);
        missing.removeAll(holding);
        if (missing.isEmpty()) {
            return; // this object did not move; the property test covers the general case
        }
        RecoveryPlan plan = RecoveryPlanner.plan(THREE_ZONES, grown, Map.of(oid, 3), Map.of(oid, holding));
        CopyTask task = plan.copies().getFirst();
        List<String> stayers = newPlacement.stream().filter(holding::contains).toList();
        assertThat(task.sources().subList(0, stayers.size())).containsExactlyElementsOf(stayers);
    }

    @Test
    void objectsWithoutAnyCompleteCopyAreReportedLost() {
        Map<ObjectId, Integer> objects = Map.of(ObjectId.of(1, 0), 2, ObjectId.of(1, 1), 2);
        Map<ObjectId, Set<String>> holders = Map.of(ObjectId.of(1, 0), Set.of("a1"));
        RecoveryPlan plan = RecoveryPlanner.plan(THREE_ZONES, THREE_ZONES, objects, holders);
        assertThat(plan.lost()).containsExactly(ObjectId.of(1, 1));
        RecoveryProgress progress = RecoveryProgress.of(plan, holders);
        assertThat(progress.lostObjects()).isEqualTo(1);
    }

    @Test
    void objectsTheNewRingCannotPlaceKeepTheirCopies() {
        Ring twoZones = THREE_ZONES.withoutNode("c1");
        Map<ObjectId, Integer> objects = objects(20, 3);
        RecoveryPlan plan = RecoveryPlanner.plan(THREE_ZONES, twoZones, objects, placedOn(THREE_ZONES, objects));
        assertThat(plan.unplaceable()).hasSize(20).allSatisfy(u -> assertThat(u.reason()).contains("3 copies need 3 zones"));
        assertThat(plan.copies()).isEmpty();
        assertThat(plan.deletions()).isEmpty();
    }

    @Test
    void progressCountsWhatIsStillMissing() {
        Map<ObjectId, Integer> objects = objects(200, 1);
        Map<ObjectId, Set<String>> holders = placedOn(THREE_ZONES, objects);
        Ring grown = THREE_ZONES.withNode(new StorageNode("d1", "zd", 300 * GIB));
        RecoveryPlan plan = RecoveryPlanner.plan(THREE_ZONES, grown, objects, holders);
        RecoveryProgress before = RecoveryProgress.of(plan, holders);
        assertThat(before.copiesToGo()).isEqualTo(plan.copies().size()).isPositive();
        assertThat(before.bytesToGo()).isEqualTo((long) before.copiesToGo() * ObjectId.OBJECT_SIZE_BYTES);
        assertThat(before.fractionCopied()).isZero();
        CopyTask first = plan.copies().getFirst();
        holders.get(first.oid()).add(first.target());
        RecoveryProgress after = RecoveryProgress.of(plan, holders);
        assertThat(after.copiesToGo()).isEqualTo(before.copiesToGo() - 1);
        assertThat(after.objectsToGo()).isEqualTo(before.objectsToGo() - 1);
        plan.copies().forEach(task -> holders.get(task.oid()).add(task.target()));
        assertThat(RecoveryProgress.of(plan, holders).done()).isTrue();
    }

    @Test
    void removalIsRefusedWhileTheNodeHoldsALastCopyOrZonesWouldRunShort() {
        VolumeCatalog catalog = VolumeCatalog.empty().create("v", GIB, 2, 0, "").orElseThrow();
        Map<ObjectId, Set<String>> holders = Map.of(ObjectId.of(1, 0), Set.of("c1"), ObjectId.of(1, 1), Set.of("a1", "b1"));
        RemovalCheck lastCopy = RecoveryPlanner.canRemove("c1", THREE_ZONES, catalog, holders);
        assertThat(lastCopy.allowed()).isFalse();
        assertThat(lastCopy.reason()).contains("only complete copy of 1 object(s), for example 0000000100000000");

        VolumeCatalog threeCopies = VolumeCatalog.empty().create("v3", GIB, 3, 0, "").orElseThrow();
        RemovalCheck zones = RecoveryPlanner.canRemove("c1", THREE_ZONES, threeCopies, Map.of());
        assertThat(zones.allowed()).isFalse();
        assertThat(zones.reason()).contains("span 2 zone(s), but v3");

        assertThat(RecoveryPlanner.canRemove("a1", THREE_ZONES, threeCopies, holders).allowed()).isTrue();
        assertThat(RecoveryPlanner.canRemove("zz", THREE_ZONES, catalog, holders).reason()).contains("not a storage node");
    }
}
