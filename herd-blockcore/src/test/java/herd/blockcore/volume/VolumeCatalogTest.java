package herd.blockcore.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.BlockLimits;
import herd.blockcore.ObjectId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VolumeCatalogTest {
    private static final long MIB = 1L << 20;
    private static final long NOW = 1_700_000_000_000L;

    private static VolumeCatalog withVolume(String name) {
        return VolumeCatalog.empty().create(name, 16 * MIB, 3, NOW, "").orElseThrow();
    }

    private static CatalogResult.Refused refused(CatalogResult result) {
        assertThat(result).isInstanceOf(CatalogResult.Refused.class);
        return (CatalogResult.Refused) result;
    }

    @Test
    void createHandsOutIncreasingIdsThatAreNeverReused() {
        VolumeCatalog catalog = withVolume("a");
        assertThat(catalog.byName("a").orElseThrow().id()).isEqualTo(1);
        catalog = catalog.delete("a").orElseThrow();
        catalog = catalog.create("a", 16 * MIB, 3, NOW, "").orElseThrow();
        assertThat(catalog.byName("a").orElseThrow().id()).isEqualTo(2);
        assertThat(catalog.nextId()).isEqualTo(3);
    }

    @Test
    void createRefusesBadInputAndChangesNothing() {
        VolumeCatalog catalog = withVolume("a");
        assertThat(refused(catalog.create("a", MIB, 1, NOW, "")).message()).contains("name 'a' is taken");
        assertThat(refused(catalog.create("bad name", MIB, 1, NOW, "")).message()).contains("letters, digits");
        assertThat(refused(catalog.create("x".repeat(65), MIB, 1, NOW, "")).code()).isEqualTo(RefusalCode.INVALID);
        assertThat(refused(catalog.create("b", 1000, 1, NOW, "")).message()).contains("multiple of 512");
        assertThat(refused(catalog.create("b", 0, 1, NOW, "")).code()).isEqualTo(RefusalCode.INVALID);
        assertThat(refused(catalog.create("b", BlockLimits.MAX_VOLUME_SIZE_BYTES + 512, 1, NOW, "")).message()).contains("at most");
        assertThat(refused(catalog.create("b", MIB, 0, NOW, "")).message()).contains("1 to " + BlockLimits.MAX_COPIES);
        assertThat(refused(catalog.create("b", MIB, BlockLimits.MAX_COPIES + 1, NOW, "")).code()).isEqualTo(RefusalCode.INVALID);
        assertThat(refused(catalog.create("b", MIB, 1, NOW, "two\nlines")).message()).contains("tag");
        assertThat(catalog.create("A.b_c-9", 512, 1, NOW, "").orElseThrow().byName("A.b_c-9")).isPresent();
        assertThat(catalog).isEqualTo(withVolume("a"));
    }

    @Test
    void snapshotFreezesTheIdAndTheVolumeContinuesUnderANewOne() {
        VolumeCatalog catalog = withVolume("db");
        CatalogResult.Changed changed = (CatalogResult.Changed) catalog.snapshot("db", "db.monday", "before upgrade", NOW + 1);
        Volume snapshot = changed.affected().get(0);
        Volume continued = changed.affected().get(1);
        assertThat(snapshot.id()).isEqualTo(1);
        assertThat(snapshot.kind()).isEqualTo(VolumeKind.SNAPSHOT);
        assertThat(snapshot.tag()).isEqualTo("before upgrade");
        assertThat(snapshot.hasParent()).isFalse();
        assertThat(continued.id()).isEqualTo(2);
        assertThat(continued.parentId()).isEqualTo(1);
        assertThat(continued.lineageId()).isEqualTo(snapshot.lineageId());
        assertThat(changed.catalog().byName("db").orElseThrow()).isEqualTo(continued);
        assertThat(changed.catalog().chain(2)).extracting(Volume::name).containsExactly("db", "db.monday");
    }

    @Test
    void snapshotAndCloneRefuseWrongKinds() {
        VolumeCatalog catalog = withVolume("db").snapshot("db", "s1", "", NOW).orElseThrow();
        assertThat(refused(catalog.snapshot("s1", "s2", "", NOW)).message()).contains("read-only snapshot; clone it");
        assertThat(refused(catalog.clone("db", "c", NOW)).message()).contains("is a working volume, not a snapshot");
        assertThat(refused(catalog.clone("nope", "c", NOW)).code()).isEqualTo(RefusalCode.NOT_FOUND);
        assertThat(refused(catalog.snapshot("db", "s1", "", NOW)).message()).contains("taken by a snapshot");
        assertThat(refused(catalog.resize("s1", 32 * MIB)).code()).isEqualTo(RefusalCode.CONFLICT);
    }

    @Test
    void cloneReadsThroughTheSnapshot() {
        VolumeCatalog catalog = withVolume("golden").snapshot("golden", "golden.v1", "", NOW).orElseThrow()
            .clone("golden.v1", "vm1", NOW + 5).orElseThrow();
        Volume clone = catalog.byName("vm1").orElseThrow();
        assertThat(clone.parentId()).isEqualTo(catalog.byName("golden.v1").orElseThrow().id());
        assertThat(clone.lineageId()).isEqualTo(clone.id());
        assertThat(clone.sizeBytes()).isEqualTo(16 * MIB);
        assertThat(clone.createdMillis()).isEqualTo(NOW + 5);
    }

    @Test
    void rollbackOnlyToOwnSnapshotsAndOnlyWhenDetached() {
        VolumeCatalog catalog = withVolume("db").snapshot("db", "s1", "", NOW).orElseThrow()
            .resize("db", 32 * MIB).orElseThrow()
            .create("other", MIB, 1, NOW, "").orElseThrow()
            .snapshot("other", "other.s", "", NOW).orElseThrow();
        assertThat(refused(catalog.rollback("db", "other.s")).message()).contains("was not taken of volume 'db'");
        VolumeCatalog attached = catalog.attach("db", "n1").orElseThrow();
        assertThat(refused(attached.rollback("db", "s1")).message()).contains("attached to node 'n1'");
        // what the API asks before it detaches the volume: the snapshot's faults, whatever the attachment
        assertThat(VolumeCatalog.rollbackRefusal("db", attached.byName("db"), "other.s", attached.byName("other.s")))
            .hasValueSatisfying(refusal -> assertThat(refusal.message()).contains("was not taken of volume 'db'"));
        assertThat(VolumeCatalog.rollbackRefusal("db", attached.byName("db"), "nope", attached.byName("nope")))
            .hasValueSatisfying(refusal -> assertThat(refusal.message()).contains("there is no snapshot named 'nope'"));
        assertThat(VolumeCatalog.rollbackRefusal("db", attached.byName("db"), "s1", attached.byName("s1"))).isEmpty();
        VolumeCatalog rolledBack = catalog.rollback("db", "s1").orElseThrow();
        Volume db = rolledBack.byName("db").orElseThrow();
        assertThat(db.parentId()).isEqualTo(rolledBack.byName("s1").orElseThrow().id());
        assertThat(db.sizeBytes()).isEqualTo(16 * MIB);
        assertThat(db.id()).isNotEqualTo(catalog.byName("db").orElseThrow().id());
        assertThat(rolledBack.byId(catalog.byName("db").orElseThrow().id())).isEmpty();
    }

    @Test
    void rollbackAwayFromADeletedSnapshotRemovesIt() {
        VolumeCatalog catalog = withVolume("db").snapshot("db", "s1", "", NOW).orElseThrow()
            .snapshot("db", "s2", "", NOW).orElseThrow();
        int s2 = catalog.byName("s2").orElseThrow().id();
        catalog = catalog.delete("s2").orElseThrow();
        assertThat(catalog.byId(s2).orElseThrow().deleted()).isTrue();
        catalog = catalog.rollback("db", "s1").orElseThrow();
        assertThat(catalog.byId(s2)).isEmpty();
        assertThat(catalog.list()).extracting(Volume::name).containsExactly("db", "s1");
    }

    @Test
    void resizeOnlyGrows() {
        VolumeCatalog catalog = withVolume("db");
        assertThat(refused(catalog.resize("db", 8 * MIB)).message()).contains("only grow");
        assertThat(catalog.resize("db", 64 * MIB).orElseThrow().byName("db").orElseThrow().sizeBytes()).isEqualTo(64 * MIB);
    }

    @Test
    void deletedSnapshotWithClonesIsHiddenAndKeptUntilTheLastCloneGoes() {
        VolumeCatalog catalog = withVolume("base").snapshot("base", "base.s", "", NOW).orElseThrow()
            .clone("base.s", "c1", NOW).orElseThrow()
            .delete("base").orElseThrow();
        int snapshotId = catalog.byName("base.s").orElseThrow().id();
        catalog = catalog.delete("base.s").orElseThrow();
        assertThat(catalog.byName("base.s")).isEmpty();
        assertThat(catalog.list()).extracting(Volume::name).containsExactly("c1");
        assertThat(catalog.byId(snapshotId).orElseThrow().deleted()).isTrue();
        assertThat(catalog.tree()).singleElement().satisfies(root -> {
            assertThat(root.volume().deleted()).isTrue();
            assertThat(root.children()).extracting(t -> t.volume().name()).containsExactly("c1");
        });
        // The name is free again while the hidden snapshot is kept.
        assertThat(catalog.create("base.s", MIB, 1, NOW, "")).isInstanceOf(CatalogResult.Changed.class);
        catalog = catalog.delete("c1").orElseThrow();
        assertThat(catalog.entries()).isEmpty();
    }

    @Test
    void deletingTheLastCloneAlsoRemovesAChainOfDeletedSnapshots() {
        VolumeCatalog catalog = withVolume("v")
            .snapshot("v", "s1", "", NOW).orElseThrow()
            .snapshot("v", "s2", "", NOW).orElseThrow()
            .clone("s2", "c", NOW).orElseThrow()
            .delete("v").orElseThrow()
            .delete("s2").orElseThrow()
            .delete("s1").orElseThrow();
        assertThat(catalog.entries()).hasSize(3);
        assertThat(catalog.list()).extracting(Volume::name).containsExactly("c");
        assertThat(catalog.delete("c").orElseThrow().entries()).isEmpty();
    }

    @Test
    void attachIsExclusiveAndReleasedWhenTheNodeIsFenced() {
        VolumeCatalog catalog = withVolume("a").create("b", MIB, 1, NOW, "").orElseThrow()
            .attach("a", "n1").orElseThrow().attach("b", "n1").orElseThrow();
        assertThat(refused(catalog.attach("a", "n2")).message()).contains("attached to node 'n1': detach it there first");
        assertThat(catalog.attach("a", "n1")).isInstanceOf(CatalogResult.Changed.class);
        assertThat(refused(catalog.delete("a")).message()).contains("detach it first");
        CatalogResult.Changed released = catalog.releaseAttachmentsOf("n1");
        assertThat(released.affected()).extracting(Volume::name).containsExactly("a", "b");
        assertThat(released.catalog().list()).allSatisfy(v -> assertThat(v.attachedNode()).isEmpty());
        assertThat(catalog.detach("a").orElseThrow().byName("a").orElseThrow().attachedNode()).isEmpty();
        assertThat(refused(catalog.attach("missing", "n1")).code()).isEqualTo(RefusalCode.NOT_FOUND);
    }

    @Test
    void snapshotOfAnAttachedVolumeKeepsTheAttachmentOnTheVolume() {
        VolumeCatalog catalog = withVolume("a").attach("a", "n1").orElseThrow().snapshot("a", "a.s", "", NOW).orElseThrow();
        assertThat(catalog.byName("a").orElseThrow().attachedNode()).contains("n1");
        assertThat(catalog.byName("a.s").orElseThrow().attachedNode()).isEmpty();
    }

    @Test
    void snapshotAndCloneDoNoPerObjectWork() {
        // A 64 TiB volume with objects written: the catalog operations never see the inodes, so
        // their cost cannot depend on the volume's size or data.
        VolumeCatalog catalog = VolumeCatalog.empty().create("huge", BlockLimits.MAX_VOLUME_SIZE_BYTES, 3, NOW, "").orElseThrow();
        int id = catalog.byName("huge").orElseThrow().id();
        Map<Integer, Inode> inodes = new HashMap<>();
        inodes.put(id, Inode.empty().with(0, id).with(16 * 1024 * 1024 - 1, id));
        VolumeCatalog after = catalog.snapshot("huge", "huge.s", "", NOW).orElseThrow().clone("huge.s", "copy", NOW).orElseThrow();
        int cloneId = after.byName("copy").orElseThrow().id();
        assertThat(ObjectMap.resolve(after, inodes, cloneId, 16 * 1024 * 1024 - 1)).contains(ObjectId.of(id, 16 * 1024 * 1024 - 1));
        assertThat(ObjectMap.resolve(after, inodes, cloneId, 5)).isEmpty();
    }

    @Test
    void restoreRebuildsTheSameCatalogAndRejectsBrokenState() {
        VolumeCatalog catalog = withVolume("v").snapshot("v", "s", "", NOW).orElseThrow().clone("s", "c", NOW).orElseThrow();
        assertThat(VolumeCatalog.restore(catalog.entries(), catalog.nextId())).isEqualTo(catalog);
        Volume orphan = new Volume(5, "o", MIB, 1, NOW, "", VolumeKind.WORKING, 4, 5, false, Optional.empty());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VolumeCatalog.restore(List.of(orphan), 6))
            .hasMessageContaining("parent id 4");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VolumeCatalog.restore(List.of(orphan), 5))
            .hasMessageContaining("not below next id");
    }
}
