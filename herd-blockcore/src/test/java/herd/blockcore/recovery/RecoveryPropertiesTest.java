package herd.blockcore.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import herd.blockcore.placement.Ring;
import herd.blockcore.placement.StorageNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Recovery properties over random memberships and changes (a node joins, leaves while still
 * reporting, or is lost with its copies), starting from holders that match the old placement except
 * for some copies that went missing. The test executes plans on a simulated set of holders.
 */
class RecoveryPropertiesTest {
    private static final long GIB = 1L << 30;
    private static final int OBJECTS = 150;

    enum Change { JOIN, LEAVE, LOSE }

    record Scenario(List<StorageNode> nodes, StorageNode extra, Change change, long seed) {}

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<Integer> nodeCount = Arbitraries.integers().between(2, 7);
        Arbitrary<Integer> zoneCount = Arbitraries.integers().between(1, 4);
        return Combinators.combine(nodeCount, zoneCount, Arbitraries.of(Change.class), Arbitraries.longs())
            .flatAs((count, zones, change, seed) -> {
                Arbitrary<StorageNode> node = Combinators.combine(
                        Arbitraries.integers().between(0, zones - 1), Arbitraries.longs().between(1, 64))
                    .as((zone, gib) -> new StorageNode("?", "zone-" + zone, gib * GIB));
                return node.list().ofSize(count + 1).map(list -> {
                    List<StorageNode> named = new ArrayList<>();
                    for (int i = 0; i < list.size(); i++) {
                        named.add(new StorageNode("node-" + i, list.get(i).zone(), list.get(i).capacityBytes()));
                    }
                    return new Scenario(named.subList(0, count), named.get(count), change, seed);
                });
            });
    }

    /** The rings before and after, the objects, and what nodes report holding after the change. */
    record Setup(Ring oldRing, Ring newRing, Map<ObjectId, Integer> objects, Map<ObjectId, Set<String>> holders) {}

    private static Setup setUp(Scenario scenario) {
        Random random = new Random(scenario.seed());
        List<StorageNode> before = new ArrayList<>(scenario.nodes());
        if (scenario.change() != Change.JOIN) {
            before.add(scenario.extra());
        }
        Ring oldRing = Ring.of(1, before);
        Ring newRing = scenario.change() == Change.JOIN
            ? oldRing.withNode(scenario.extra()) : oldRing.withoutNode(scenario.extra().name());
        Map<ObjectId, Integer> objects = new HashMap<>();
        Map<ObjectId, Set<String>> holders = new HashMap<>();
        for (int i = 0; i < OBJECTS; i++) {
            ObjectId oid = ObjectId.of(1 + i % 3, i);
            int copies = 1 + random.nextInt(oldRing.zoneCount());
            objects.put(oid, copies);
            Set<String> holding = new HashSet<>(oldRing.placement(oid, copies));
            holding.removeIf(node -> random.nextInt(10) == 0); // a copy that never got written, or a failed disk
            if (scenario.change() == Change.LOSE) {
                holding.remove(scenario.extra().name()); // a lost node reports nothing
            }
            holders.put(oid, holding);
        }
        return new Setup(oldRing, newRing, objects, holders);
    }

    private static Map<ObjectId, Set<String>> copyOf(Map<ObjectId, Set<String>> holders) {
        Map<ObjectId, Set<String>> copy = new HashMap<>();
        holders.forEach((oid, nodes) -> copy.put(oid, new HashSet<>(nodes)));
        return copy;
    }

    /** Makes each copy from its first source that holds the object, then makes the deletions. */
    private static void execute(RecoveryPlan plan, Map<ObjectId, Set<String>> holders) {
        for (CopyTask task : plan.copies()) {
            Set<String> holding = holders.get(task.oid());
            assertThat(task.sources()).anyMatch(holding::contains);
            holding.add(task.target());
        }
        for (DeleteTask task : plan.deletions()) {
            Set<String> holding = holders.get(task.oid());
            assertThat(holding).contains(task.node());
            holding.remove(task.node());
            assertThat(holding).as("never the last copy").isNotEmpty();
        }
    }

    @Property(tries = 150)
    void afterThePlanEveryObjectSitsOnItsNewPlacement(@ForAll("scenarios") Scenario scenario) {
        Setup setup = setUp(scenario);
        Map<ObjectId, Set<String>> holders = copyOf(setup.holders());
        RecoveryPlan plan = RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), holders);
        execute(plan, holders);
        // A second round removes the copies that had to wait for the placement to be complete.
        RecoveryPlan cleanup = RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), holders);
        assertThat(cleanup.copies()).isEmpty();
        execute(cleanup, holders);

        Set<ObjectId> lost = new HashSet<>(plan.lost());
        Set<ObjectId> unplaceable = plan.unplaceable().stream().map(UnplaceableObject::oid).collect(Collectors.toSet());
        setup.objects().forEach((oid, copies) -> {
            assertThat(lost.contains(oid)).isEqualTo(setup.holders().get(oid).isEmpty());
            if (lost.contains(oid) || unplaceable.contains(oid)) {
                assertThat(holders.get(oid)).isEqualTo(setup.holders().get(oid));
                return;
            }
            Set<String> members = setup.newRing().nodes().stream().map(StorageNode::name).collect(Collectors.toSet());
            Set<String> onMembers = new HashSet<>(holders.get(oid));
            onMembers.retainAll(members);
            assertThat(onMembers).containsExactlyInAnyOrderElementsOf(setup.newRing().placement(oid, copies));
        });
        assertThat(RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), holders).isEmpty()).isTrue();
    }

    @Property(tries = 150)
    void noPlanDeletesALastCopyOrACopyOfAnIncompletePlacement(@ForAll("scenarios") Scenario scenario) {
        Setup setup = setUp(scenario);
        RecoveryPlan plan = RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), setup.holders());
        Map<ObjectId, List<String>> deletedByObject = plan.deletions().stream()
            .collect(Collectors.groupingBy(DeleteTask::oid, Collectors.mapping(DeleteTask::node, Collectors.toList())));
        deletedByObject.forEach((oid, deleted) -> {
            List<String> placement = setup.newRing().placement(oid, setup.objects().get(oid));
            assertThat(setup.holders().get(oid)).containsAll(placement).containsAll(deleted);
            assertThat(deleted).doesNotContainAnyElementsOf(placement);
        });
    }

    @Property(tries = 150)
    void replanningAfterPartialProgressListsOnlyWhatIsStillMissing(@ForAll("scenarios") Scenario scenario) {
        Setup setup = setUp(scenario);
        Random random = new Random(scenario.seed() + 1);
        Map<ObjectId, Set<String>> holders = copyOf(setup.holders());
        RecoveryPlan plan = RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), holders);
        Set<CopyTask> stillToDo = new HashSet<>();
        for (CopyTask task : plan.copies()) {
            if (random.nextBoolean()) {
                holders.get(task.oid()).add(task.target());
            } else {
                stillToDo.add(task);
            }
        }
        RecoveryPlan replanned = RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), holders);
        Set<List<Object>> remaining = stillToDo.stream().map(t -> List.<Object>of(t.oid(), t.target())).collect(Collectors.toSet());
        Set<List<Object>> listed = replanned.copies().stream().map(t -> List.<Object>of(t.oid(), t.target())).collect(Collectors.toSet());
        assertThat(listed).isEqualTo(remaining);
        assertThat(RecoveryProgress.of(plan, holders).copiesToGo()).isEqualTo(remaining.size());
        assertThat(RecoveryPlanner.plan(setup.oldRing(), setup.newRing(), setup.objects(), holders)).isEqualTo(replanned);
    }
}
