package herd.core.volume;

import herd.blockcore.BlockLimits;
import herd.blockcore.ObjectId;
import herd.blockcore.volume.CatalogResult;
import herd.blockcore.volume.Inode;
import herd.blockcore.volume.ObjectMap;
import herd.blockcore.volume.Volume;
import herd.blockcore.volume.VolumeCatalog;
import herd.core.ErrorCode;
import herd.core.Rejection;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.QueryResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The volume part of the cluster state: the catalog and every volume's inode. Owned by
 * {@link herd.core.ClusterState}, which serialises access. Each operation computes the whole new
 * value first and only then replaces the old one, so a refused command changes nothing.
 *
 * <p>The inode of an entry that leaves the catalog goes with it: its objects are reclaimable by
 * their owner id alone ({@link herd.blockcore.volume.ObjectMap#ownerDropped}). Inodes of deleted
 * snapshots that clones still read through are kept, and name the objects no one reads any more
 * ({@link herd.blockcore.volume.ObjectMap#reclaimable}).
 */
public final class VolumeTable {
    private VolumeCatalog catalog = VolumeCatalog.empty();
    private Map<Integer, Inode> inodes = Map.of();

    public VolumeCatalog catalog() {
        return catalog;
    }

    public Map<Integer, Inode> inodes() {
        return inodes;
    }

    // ---- commands ----

    public Outcome create(Command.CreateVolume create) {
        return change(catalog.create(create.name(), create.sizeBytes(), create.copies(), create.createdMillis(),
            VolumeRules.tagOrEmpty(create.tag())), "created volume " + create.name());
    }

    public Outcome resize(Command.ResizeVolume resize) {
        return change(catalog.resize(resize.name(), resize.sizeBytes()),
            "resized volume " + resize.name() + " to " + resize.sizeBytes() + " bytes");
    }

    public Outcome delete(Command.DeleteVolume delete) {
        return change(catalog.delete(delete.name()), "deleted " + delete.name());
    }

    public Outcome snapshot(Command.SnapshotVolume snapshot) {
        Optional<String> attached = catalog.byName(snapshot.volume()).flatMap(Volume::attachedNode);
        if (snapshot.servedBy() != null && !attached.orElse("").equals(snapshot.servedBy())) {
            return rejected(ErrorCode.CONFLICT, "volume '" + snapshot.volume() + "' was attached to "
                + attached.map(node -> "node " + node).orElse("no node") + " while the snapshot was being taken"
                + (snapshot.servedBy().isEmpty() ? "" : " on node " + snapshot.servedBy())
                + "; nothing was changed: take the snapshot again"
                + attached.map(node -> " through node " + node + "'s API, which serves it").orElse(""));
        }
        return change(catalog.snapshot(snapshot.volume(), snapshot.snapshot(), VolumeRules.tagOrEmpty(snapshot.tag()),
            snapshot.createdMillis()), "took snapshot " + snapshot.snapshot() + " of volume " + snapshot.volume());
    }

    public Outcome cloneVolume(Command.CloneVolume clone) {
        int copies = clone.copies() == null ? 0 : clone.copies();
        return change(catalog.clone(clone.snapshot(), clone.newName(), clone.createdMillis(), copies),
            "cloned snapshot " + clone.snapshot() + " as volume " + clone.newName());
    }

    public Outcome rollback(Command.RollbackVolume rollback) {
        return change(catalog.rollback(rollback.volume(), rollback.snapshot()),
            "rolled volume " + rollback.volume() + " back to snapshot " + rollback.snapshot());
    }

    public Outcome attach(Command.AttachVolume attach) {
        return change(catalog.attach(attach.volume(), attach.node()),
            "attached volume " + attach.volume() + " to node " + attach.node());
    }

    /** Detaches every volume attached to {@code node}. */
    public void releaseAttachmentsOf(String node) {
        catalog = catalog.releaseAttachmentsOf(node).catalog();
    }

    public Outcome detach(Command.DetachVolume detach) {
        return change(catalog.detach(detach.volume()), "detached volume " + detach.volume());
    }

    /** Records first writes: only for a working volume, indexes inside it, owners on its chain. */
    public Outcome setInodeEntries(Command.SetInodeEntries set) {
        Optional<Volume> found = catalog.byId(set.volumeId());
        String idText = Integer.toUnsignedString(set.volumeId());
        if (found.isEmpty() || found.get().deleted()) {
            return rejected(ErrorCode.NOT_FOUND, "volume id " + idText + " is not in the catalog (deleted meanwhile?)");
        }
        Volume volume = found.get();
        if (volume.isSnapshot()) {
            return rejected(ErrorCode.BAD_REQUEST, "id " + idText + " is now read-only snapshot '" + volume.name()
                + "': look the volume up by name again and write under its new id");
        }
        Set<Integer> chainIds = new HashSet<>();
        catalog.chain(volume.id()).forEach(entry -> chainIds.add(entry.id()));
        long objects = BlockLimits.objectCount(volume.sizeBytes());
        Inode updated = inodes.getOrDefault(volume.id(), Inode.empty());
        for (InodeEntry entry : set.entries()) {
            if (entry.index() >= objects || !chainIds.contains(entry.ownerVolumeId())) {
                return rejected(ErrorCode.BAD_REQUEST, "inode entry " + entry + " does not fit volume '" + volume.name()
                    + "' (id " + idText + ", " + objects + " objects): the owner must be the volume or one of its snapshots");
            }
            updated = updated.with(entry.index(), entry.ownerVolumeId());
        }
        Map<Integer, Inode> next = new HashMap<>(inodes);
        next.put(volume.id(), updated);
        inodes = Map.copyOf(next);
        return new Outcome.Applied("volume " + volume.name() + " owns " + set.entries().size() + " more objects");
    }

    private Outcome change(CatalogResult result, String description) {
        return switch (result) {
            case CatalogResult.Changed changed -> {
                catalog = changed.catalog();
                dropInodesOfDroppedEntries();
                yield new Outcome.Applied(description);
            }
            case CatalogResult.Refused refused -> new Outcome.Rejected(VolumeRules.rejection(refused));
        };
    }

    private void dropInodesOfDroppedEntries() {
        Set<Integer> unused = ObjectMap.unusedInodes(catalog, inodes);
        if (!unused.isEmpty()) {
            Map<Integer, Inode> kept = new HashMap<>(inodes);
            unused.forEach(kept::remove);
            inodes = Map.copyOf(kept);
        }
    }

    /** What storage nodes may delete (see {@link QueryResult.Reclaimable}). */
    public QueryResult.Reclaimable reclaimable() {
        Set<Long> unread = ObjectMap.reclaimable(catalog, inodes).stream().map(ObjectId::value)
            .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
        Set<Integer> kept = catalog.entries().stream().map(Volume::id)
            .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
        return new QueryResult.Reclaimable(unread, kept, catalog.nextId());
    }

    private static Outcome rejected(ErrorCode code, String message) {
        return new Outcome.Rejected(new Rejection(code, message));
    }

    // ---- queries ----

    public QueryResult.VolumeList list() {
        return new QueryResult.VolumeList(catalog.list().stream().map(this::row).toList());
    }

    /** An entry with what a gateway needs to serve it: its chain and the chain's inodes. */
    public QueryResult info(String name) {
        Optional<Volume> found = name == null ? Optional.empty() : catalog.byName(name);
        if (found.isEmpty()) {
            return new QueryResult.Refused(new Rejection(ErrorCode.NOT_FOUND, "there is no volume or snapshot named '"
                + name + "' (see herd volume list)"));
        }
        Volume volume = found.get();
        List<VolumeRecord> chain = new ArrayList<>();
        List<InodeRecord> chainInodes = new ArrayList<>();
        for (Volume entry : catalog.chain(volume.id())) {
            chain.add(VolumeRecord.of(entry));
            chainInodes.add(InodeRecord.of(entry.id(), inodes.getOrDefault(entry.id(), Inode.empty())));
        }
        return new QueryResult.VolumeDetail(row(volume), inodes.getOrDefault(volume.id(), Inode.empty()).size(), chain,
            chainInodes, catalog.nextId());
    }

    public QueryResult.VolumeForest tree() {
        return new QueryResult.VolumeForest(catalog.tree().stream().map(VolumeTreeNode::of).toList());
    }

    private VolumeRow row(Volume volume) {
        Inode own = inodes.getOrDefault(volume.id(), Inode.empty());
        long[] ownedObjects = {0};
        own.forEach((index, owner) -> {
            if (owner == volume.id()) {
                ownedObjects[0]++;
            }
        });
        Set<Integer> sharedIndexes = new HashSet<>();
        long objects = BlockLimits.objectCount(volume.sizeBytes());
        List<Volume> chain = catalog.chain(volume.id());
        for (Volume ancestor : chain.subList(1, chain.size())) {
            inodes.getOrDefault(ancestor.id(), Inode.empty()).forEach((index, owner) -> {
                if (index < objects && own.owner(index).isEmpty()) {
                    sharedIndexes.add(index);
                }
            });
        }
        return new VolumeRow(VolumeRecord.of(volume), ownedObjects[0] * ObjectId.OBJECT_SIZE_BYTES,
            (long) sharedIndexes.size() * ObjectId.OBJECT_SIZE_BYTES);
    }

    // ---- images ----

    public VolumeImage image() {
        List<VolumeRecord> entries = catalog.entries().stream().map(VolumeRecord::of).toList();
        List<InodeRecord> inodeRecords = new TreeMap<>(inodes).entrySet().stream()
            .map(entry -> InodeRecord.of(entry.getKey(), entry.getValue())).toList();
        return new VolumeImage(entries, catalog.nextId(), inodeRecords);
    }

    /** Replaces the contents with an image's; a null image (written before volumes existed) means none. */
    public void load(VolumeImage image) {
        VolumeImage source = image == null ? VolumeImage.empty() : image;
        catalog = VolumeCatalog.restore(source.entries().stream().map(VolumeRecord::toVolume).toList(), source.nextId());
        Map<Integer, Inode> loaded = new HashMap<>();
        for (InodeRecord record : source.inodes()) {
            loaded.put(record.volumeId(), record.toInode());
        }
        inodes = Map.copyOf(loaded);
    }
}
