package herd.blockcore.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.BlockLimits;
import herd.blockcore.ObjectId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Model-based test of the copy-on-write design: random sequences of create, write, snapshot, clone,
 * rollback, resize, delete and reclaim run against the catalog, the inodes and a simulated object
 * store, and against a reference model that simply copies each volume's data on snapshot and clone.
 * After every step every index of every live volume and snapshot must read the same through
 * {@link ObjectMap#resolve} as in the reference; reclaiming deletes objects from the simulated store,
 * so a reachable object that was reclaimed shows up as a failed read.
 */
class CopyOnWriteModelPropertiesTest {
    private static final int SECTORS_PER_OBJECT = 4; // each simulated object holds 4 one-byte sectors
    private static final int NAMES = 8;
    private static final long NOW = 1_700_000_000_000L;

    /** One step; the operands pick names, indexes and values (modulo what exists). */
    record Op(int kind, int a, int b, int c) {}

    enum Kind { CREATE, WRITE, WRITE_AGAIN, SNAPSHOT, CLONE, ROLLBACK, DELETE, RESIZE, RECLAIM }

    @Provide
    Arbitrary<Op> ops() {
        Arbitrary<Integer> operand = Arbitraries.integers().between(0, 1000);
        return Combinators.combine(Arbitraries.integers().between(0, Kind.values().length - 1), operand, operand, operand)
            .as(Op::new);
    }

    /** The reference: each live name's kind, lineage, size in objects and data, copied on snapshot and clone. */
    record Ref(VolumeKind kind, int lineage, long sizeBytes, Map<Integer, byte[]> data) {
        Ref copyAs(VolumeKind newKind, int newLineage) {
            Map<Integer, byte[]> copy = new TreeMap<>();
            data.forEach((index, bytes) -> copy.put(index, bytes.clone()));
            return new Ref(newKind, newLineage, sizeBytes, copy);
        }
    }

    /** The system under test plus its simulated object store. */
    static final class World {
        VolumeCatalog catalog = VolumeCatalog.empty();
        Map<Integer, Inode> inodes = new HashMap<>();
        final Map<ObjectId, byte[]> store = new HashMap<>();
        final Map<String, Ref> reference = new TreeMap<>();
        int nextLineage = 1;
    }

    @Property(tries = 300)
    void everyReadMatchesTheReferenceAndReclamationNeverTakesAReachableObject(
            @ForAll @Size(max = 60) List<@net.jqwik.api.From("ops") Op> ops) {
        World world = new World();
        for (Op op : ops) {
            step(world, op);
            checkReads(world);
        }
        reclaim(world);
        checkReads(world);
        for (String name : List.copyOf(world.reference.keySet())) {
            world.catalog = world.catalog.delete(name).orElseThrow();
        }
        assertThat(world.catalog.entries()).isEmpty();
        dropInodesOfDroppedEntries(world);
        assertThat(world.inodes).as("no inode outlives its entry").isEmpty();
        reclaim(world);
        assertThat(world.store).as("every object is reclaimed once nothing is left").isEmpty();
    }

    private static void step(World world, Op op) {
        Kind kind = Kind.values()[op.kind()];
        switch (kind) {
            case CREATE -> create(world, op);
            case WRITE, WRITE_AGAIN -> write(world, op);
            case SNAPSHOT -> snapshot(world, op);
            case CLONE -> cloneSnapshot(world, op);
            case ROLLBACK -> rollback(world, op);
            case DELETE -> delete(world, op);
            case RESIZE -> resize(world, op);
            case RECLAIM -> reclaim(world);
        }
    }

    private static String name(int operand) {
        return "n" + operand % NAMES;
    }

    private static Optional<String> pick(World world, VolumeKind kind, int operand) {
        List<String> names = world.reference.entrySet().stream()
            .filter(e -> e.getValue().kind() == kind).map(Map.Entry::getKey).toList();
        return names.isEmpty() ? Optional.empty() : Optional.of(names.get(operand % names.size()));
    }

    private static void create(World world, Op op) {
        String name = name(op.a());
        long sizeBytes = (1 + op.b() % 4) * (long) ObjectId.OBJECT_SIZE_BYTES - (op.c() % 2) * BlockLimits.SECTOR_BYTES;
        boolean expectAccepted = !world.reference.containsKey(name);
        apply(world, world.catalog.create(name, sizeBytes, 1 + op.c() % 3, NOW, ""), expectAccepted);
        if (expectAccepted) {
            world.reference.put(name, new Ref(VolumeKind.WORKING, world.nextLineage++, sizeBytes, new TreeMap<>()));
        }
    }

    private static void write(World world, Op op) {
        Optional<String> picked = pick(world, VolumeKind.WORKING, op.a());
        if (picked.isEmpty()) {
            return;
        }
        Ref ref = world.reference.get(picked.get());
        int index = (int) (op.b() % BlockLimits.objectCount(ref.sizeBytes()));
        int sector = op.c() % SECTORS_PER_OBJECT;
        byte value = (byte) (1 + op.c() % 250);
        Volume volume = world.catalog.byName(picked.get()).orElseThrow();
        WriteTarget target = (WriteTarget) ObjectMap.writeTarget(world.catalog, world.inodes, volume.id(), index);
        assertThat(target.target()).isEqualTo(ObjectId.of(volume.id(), index));
        if (target.allocates()) {
            assertThat(world.store).as("an object is allocated once").doesNotContainKey(target.target());
            byte[] initial = target.copyFrom().map(source -> world.store.get(source).clone()).orElse(new byte[SECTORS_PER_OBJECT]);
            world.store.put(target.target(), initial);
            world.inodes = target.inodeUpdate().orElseThrow().applyTo(world.inodes);
        } else {
            assertThat(target.copyFrom()).isEmpty();
        }
        world.store.get(target.target())[sector] = value;
        ref.data().computeIfAbsent(index, i -> new byte[SECTORS_PER_OBJECT])[sector] = value;
    }

    private static void snapshot(World world, Op op) {
        Optional<String> volume = pick(world, VolumeKind.WORKING, op.a());
        if (volume.isEmpty()) {
            return;
        }
        String snapshotName = name(op.b());
        boolean expectAccepted = !world.reference.containsKey(snapshotName);
        int frozenId = world.catalog.byName(volume.get()).orElseThrow().id();
        apply(world, world.catalog.snapshot(volume.get(), snapshotName, "tag", NOW), expectAccepted);
        if (expectAccepted) {
            Ref ref = world.reference.get(volume.get());
            world.reference.put(snapshotName, ref.copyAs(VolumeKind.SNAPSHOT, ref.lineage()));
            assertThat(ObjectMap.writeTarget(world.catalog, world.inodes, frozenId, 0))
                .as("the frozen id takes no writes").isInstanceOf(WritePlan.Refused.class);
        }
    }

    private static void cloneSnapshot(World world, Op op) {
        Optional<String> snapshot = pick(world, VolumeKind.SNAPSHOT, op.a());
        if (snapshot.isEmpty()) {
            return;
        }
        String newName = name(op.b());
        boolean expectAccepted = !world.reference.containsKey(newName);
        apply(world, world.catalog.clone(snapshot.get(), newName, NOW), expectAccepted);
        if (expectAccepted) {
            world.reference.put(newName, world.reference.get(snapshot.get()).copyAs(VolumeKind.WORKING, world.nextLineage++));
        }
    }

    private static void rollback(World world, Op op) {
        Optional<String> volume = pick(world, VolumeKind.WORKING, op.a());
        Optional<String> snapshot = pick(world, VolumeKind.SNAPSHOT, op.b());
        if (volume.isEmpty() || snapshot.isEmpty()) {
            return;
        }
        Ref volumeRef = world.reference.get(volume.get());
        Ref snapshotRef = world.reference.get(snapshot.get());
        boolean expectAccepted = volumeRef.lineage() == snapshotRef.lineage();
        apply(world, world.catalog.rollback(volume.get(), snapshot.get()), expectAccepted);
        if (expectAccepted) {
            world.reference.put(volume.get(), snapshotRef.copyAs(VolumeKind.WORKING, volumeRef.lineage()));
        }
    }

    private static void delete(World world, Op op) {
        String name = name(op.a());
        boolean expectAccepted = world.reference.containsKey(name);
        apply(world, world.catalog.delete(name), expectAccepted);
        world.reference.remove(name);
    }

    private static void resize(World world, Op op) {
        Optional<String> volume = pick(world, VolumeKind.WORKING, op.a());
        if (volume.isEmpty()) {
            return;
        }
        Ref ref = world.reference.get(volume.get());
        long newSize = ref.sizeBytes() + (1 + op.b() % 3) * (long) BlockLimits.SECTOR_BYTES * 4096;
        apply(world, world.catalog.resize(volume.get(), newSize), true);
        world.reference.put(volume.get(), new Ref(ref.kind(), ref.lineage(), newSize, ref.data()));
    }

    /** As a storage node reclaims: the unread objects of kept inodes, and every object whose owner entry was dropped. */
    private static void reclaim(World world) {
        Set<ObjectId> reclaimable = new java.util.HashSet<>(ObjectMap.reclaimable(world.catalog, world.inodes));
        world.store.keySet().stream().filter(oid -> ObjectMap.ownerDropped(world.catalog, oid)).forEach(reclaimable::add);
        Set<ObjectId> reachableAndReclaimable = new java.util.HashSet<>(reclaimable);
        reachableAndReclaimable.retainAll(ObjectMap.reachable(world.catalog, world.inodes));
        assertThat(reachableAndReclaimable).isEmpty();
        reclaimable.forEach(world.store::remove);
    }

    /** As the cluster state does: an entry's inode goes when the entry leaves the catalog. */
    private static void dropInodesOfDroppedEntries(World world) {
        Map<Integer, Inode> kept = new HashMap<>(world.inodes);
        ObjectMap.unusedInodes(world.catalog, world.inodes).forEach(kept::remove);
        world.inodes = kept;
    }

    private static void apply(World world, CatalogResult result, boolean expectAccepted) {
        if (expectAccepted) {
            assertThat(result).isInstanceOf(CatalogResult.Changed.class);
            world.catalog = ((CatalogResult.Changed) result).catalog();
            dropInodesOfDroppedEntries(world);
        } else {
            assertThat(result).isInstanceOf(CatalogResult.Refused.class);
        }
    }

    private static void checkReads(World world) {
        assertThat(world.catalog.list()).extracting(Volume::name).containsExactlyElementsOf(world.reference.keySet());
        assertThat(world.catalog.entries()).filteredOn(Volume::deleted)
            .as("a deleted snapshot is kept only while something reads through it")
            .allSatisfy(kept -> assertThat(world.catalog.children(kept.id())).isNotEmpty());
        for (Map.Entry<String, Ref> entry : world.reference.entrySet()) {
            Volume volume = world.catalog.byName(entry.getKey()).orElseThrow();
            Ref ref = entry.getValue();
            assertThat(volume.kind()).isEqualTo(ref.kind());
            assertThat(volume.sizeBytes()).isEqualTo(ref.sizeBytes());
            for (int index = 0; index < BlockLimits.objectCount(ref.sizeBytes()); index++) {
                byte[] expected = ref.data().getOrDefault(index, new byte[SECTORS_PER_OBJECT]);
                assertThat(read(world, volume.id(), index)).as("%s index %d", entry.getKey(), index).isEqualTo(expected);
            }
        }
    }

    private static byte[] read(World world, int volumeId, int index) {
        Optional<ObjectId> oid = ObjectMap.resolve(world.catalog, world.inodes, volumeId, index);
        if (oid.isEmpty()) {
            return new byte[SECTORS_PER_OBJECT];
        }
        assertThat(world.store).as("object %s that a read resolves to exists", oid.get()).containsKey(oid.get());
        return world.store.get(oid.get());
    }

    @Property(tries = 50)
    void writesToTheSameIndexAllocateOnce(@ForAll @Size(min = 1, max = 20) List<Integer> indexes) {
        VolumeCatalog catalog = VolumeCatalog.empty().create("v", 32L * ObjectId.OBJECT_SIZE_BYTES, 1, NOW, "").orElseThrow();
        int id = catalog.byName("v").orElseThrow().id();
        Map<Integer, Inode> inodes = new HashMap<>();
        List<ObjectId> allocated = new ArrayList<>();
        for (int raw : indexes) {
            int index = Math.floorMod(raw, 32);
            WriteTarget target = (WriteTarget) ObjectMap.writeTarget(catalog, inodes, id, index);
            assertThat(target.copyFrom()).isEmpty();
            if (target.allocates()) {
                allocated.add(target.target());
                inodes = target.inodeUpdate().orElseThrow().applyTo(inodes);
            }
        }
        assertThat(allocated).doesNotHaveDuplicates();
        assertThat(inodes.get(id).size()).isEqualTo(allocated.size());
    }
}
