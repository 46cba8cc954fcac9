package herd.blockcore.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.blockcore.ObjectId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ObjectMapTest {
    private static final long FOUR_OBJECTS = 4L * ObjectId.OBJECT_SIZE_BYTES;

    private VolumeCatalog catalog = VolumeCatalog.empty().create("base", FOUR_OBJECTS, 2, 0, "").orElseThrow();
    private Map<Integer, Inode> inodes = new HashMap<>();

    private int id(String name) {
        return catalog.byName(name).orElseThrow().id();
    }

    private WriteTarget write(String name, int index) {
        WriteTarget target = (WriteTarget) ObjectMap.writeTarget(catalog, inodes, id(name), index);
        target.inodeUpdate().ifPresent(update -> inodes = update.applyTo(inodes));
        return target;
    }

    @Test
    void firstWriteAllocatesAndLaterWritesGoStraightToTheSameObject() {
        WriteTarget first = write("base", 1);
        assertThat(first.target()).isEqualTo(ObjectId.of(1, 1));
        assertThat(first.copyFrom()).isEmpty();
        assertThat(first.allocates()).isTrue();
        WriteTarget second = write("base", 1);
        assertThat(second.allocates()).isFalse();
        assertThat(second.target()).isEqualTo(first.target());
        assertThat(ObjectMap.resolve(catalog, inodes, id("base"), 1)).contains(ObjectId.of(1, 1));
        assertThat(ObjectMap.resolve(catalog, inodes, id("base"), 2)).isEmpty();
    }

    @Test
    void aCloneCopiesOnItsFirstWriteToAnIndexTheSnapshotHolds() {
        write("base", 0);
        catalog = catalog.snapshot("base", "base.s", "", 0).orElseThrow().clone("base.s", "vm", 0).orElseThrow();
        WriteTarget cow = write("vm", 0);
        assertThat(cow.target()).isEqualTo(ObjectId.of(id("vm"), 0));
        assertThat(cow.copyFrom()).contains(ObjectId.of(1, 0));
        assertThat(cow.inodeUpdate()).contains(new InodeUpdate(id("vm"), 0, id("vm")));
        assertThat(ObjectMap.resolve(catalog, inodes, id("vm"), 0)).contains(ObjectId.of(id("vm"), 0));
        assertThat(ObjectMap.resolve(catalog, inodes, id("base.s"), 0)).contains(ObjectId.of(1, 0));
        assertThat(ObjectMap.resolve(catalog, inodes, id("base"), 0)).as("base reads its snapshot").contains(ObjectId.of(1, 0));
    }

    @Test
    void writesToSnapshotsAreRefusedAndBadIndexesThrow() {
        catalog = catalog.snapshot("base", "base.s", "", 0).orElseThrow();
        assertThat(ObjectMap.writeTarget(catalog, inodes, id("base.s"), 0))
            .isInstanceOfSatisfying(WritePlan.Refused.class, r -> assertThat(r.reason()).contains("look the volume up by name again"));
        assertThatThrownBy(() -> ObjectMap.resolve(catalog, inodes, id("base"), 4)).hasMessageContaining("which has 4 objects");
        assertThatThrownBy(() -> ObjectMap.resolve(catalog, inodes, 99, 0)).hasMessageContaining("id 99 is not in the catalog");
    }

    @Test
    void reclaimsWhatNoLiveEntryReadsButKeepsWhatClonesOfADeletedSnapshotRead() {
        write("base", 0);
        write("base", 1);
        catalog = catalog.snapshot("base", "base.s", "", 0).orElseThrow().clone("base.s", "vm", 0).orElseThrow();
        write("vm", 0); // vm overwrites index 0, still reads index 1 from the snapshot
        int baseId = id("base");
        write("base", 2);
        catalog = catalog.delete("base").orElseThrow().delete("base.s").orElseThrow();
        assertThat(catalog.byId(1).orElseThrow().deleted()).isTrue();
        assertThat(ObjectMap.reclaimable(catalog, inodes)).containsExactlyInAnyOrder(ObjectId.of(1, 0), ObjectId.of(baseId, 2));
        assertThat(ObjectMap.unusedInodes(catalog, inodes)).containsExactly(baseId);

        catalog = catalog.delete("vm").orElseThrow();
        assertThat(ObjectMap.reclaimable(catalog, inodes)).hasSize(4);
        assertThat(ObjectMap.unusedInodes(catalog, inodes)).hasSize(3);
    }

    @Test
    void rollbackMakesLaterWritesReclaimable() {
        catalog = catalog.snapshot("base", "s1", "", 0).orElseThrow();
        int writingId = id("base");
        write("base", 3);
        catalog = catalog.rollback("base", "s1").orElseThrow();
        assertThat(ObjectMap.reclaimable(catalog, inodes)).containsExactly(ObjectId.of(writingId, 3));
        assertThat(ObjectMap.resolve(catalog, inodes, id("base"), 3)).isEmpty();
    }

    @Test
    void inodeKeepsEntriesSortedAndCopiesOnChange() {
        Inode empty = Inode.empty();
        Inode inode = empty.with(5, 1).with(-1, 2).with(0, 3).with(5, 4);
        assertThat(empty.isEmpty()).isTrue();
        assertThat(inode.toMap()).containsExactly(Map.entry(0, 3), Map.entry(5, 4), Map.entry(-1, 2));
        assertThat(inode.owner(7)).isEmpty();
        assertThat(inode.with(0, 3)).isSameAs(inode);
        assertThat(Inode.of(inode.toMap())).isEqualTo(inode);
    }

    @Test
    void restoreRejectsAParentWhoseIdIsNotLower() {
        Volume child = new Volume(2, "c", 512, 1, 0, "", VolumeKind.WORKING, 3, 2, false, Optional.empty());
        Volume parent = new Volume(3, "p", 512, 1, 0, "", VolumeKind.SNAPSHOT, Volume.NO_PARENT, 3, false, Optional.empty());
        assertThatThrownBy(() -> VolumeCatalog.restore(List.of(child, parent), 4)).hasMessageContaining("not lower than its own");
    }
}
