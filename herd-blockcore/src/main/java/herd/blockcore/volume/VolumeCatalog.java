package herd.blockcore.volume;

import herd.blockcore.BlockLimits;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The volumes and snapshots of the cluster, an immutable value: every operation returns a
 * {@link CatalogResult} holding a new catalog, or a refusal and nothing changed. Immutable because the
 * catalog lives in the Raft-replicated cluster state, whose apply step must never half-succeed and
 * whose snapshots must not see later changes; copying costs O(number of entries), never O(size of a
 * volume), so snapshots and clones stay O(1) in the volume's data.
 *
 * <p>Entries are keyed by id (all kept entries, including deleted snapshots that clones still need)
 * and by name (live entries only: one namespace for volumes and snapshots). Ids are handed out in
 * order from 1 and never reused, because object names contain them.
 */
public final class VolumeCatalog {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1," + BlockLimits.MAX_NAME_CHARS + "}");
    private static final long LAST_ID = 0xFFFF_FFFFL;
    private static final String TREE_HINT = " (see herd volume tree)";

    private final SortedMap<Integer, Volume> entriesById; // unsigned id order
    private final SortedMap<String, Integer> liveIdsByName;
    private final long nextId;

    private VolumeCatalog(SortedMap<Integer, Volume> entriesById, SortedMap<String, Integer> liveIdsByName, long nextId) {
        this.entriesById = Collections.unmodifiableSortedMap(entriesById);
        this.liveIdsByName = Collections.unmodifiableSortedMap(liveIdsByName);
        this.nextId = nextId;
    }

    public static VolumeCatalog empty() {
        return new VolumeCatalog(new TreeMap<>(Integer::compareUnsigned), new TreeMap<>(), 1);
    }

    /**
     * Rebuilds a catalog from stored entries (for example from the cluster state's snapshot). Throws
     * {@link IllegalArgumentException} when the entries break the catalog's invariants: that is
     * corrupt state, not user input.
     */
    public static VolumeCatalog restore(Collection<Volume> entries, long nextId) {
        VolumeCatalog catalog = new VolumeCatalog(new TreeMap<>(Integer::compareUnsigned), new TreeMap<>(), nextId);
        Draft draft = catalog.draft();
        for (Volume entry : entries) {
            if (Integer.toUnsignedLong(entry.id()) >= nextId) {
                throw new IllegalArgumentException("entry " + entry.name() + " has id " + entry.idText() + ", not below next id " + nextId);
            }
            if (draft.byId.containsKey(entry.id()) || (!entry.deleted() && draft.byName.containsKey(entry.name()))) {
                throw new IllegalArgumentException("entry " + entry.name() + " (id " + entry.idText() + ") is a duplicate");
            }
            draft.put(entry);
        }
        for (Volume entry : entries) {
            if (entry.hasParent() && !draft.byId.containsKey(entry.parentId())) {
                throw new IllegalArgumentException("entry " + entry.name() + " has a parent id "
                    + Integer.toUnsignedString(entry.parentId()) + " that is not in the catalog");
            }
            // A parent always exists before its children, so its id is lower: this also rules out cycles.
            if (entry.hasParent() && Integer.compareUnsigned(entry.parentId(), entry.id()) >= 0) {
                throw new IllegalArgumentException("entry " + entry.name() + " (id " + entry.idText()
                    + ") has a parent id " + Integer.toUnsignedString(entry.parentId()) + " that is not lower than its own");
            }
        }
        return draft.build(nextId);
    }

    // ---- queries ----

    /** The live volume or snapshot of this name. */
    public Optional<Volume> byName(String name) {
        Integer id = liveIdsByName.get(name);
        return id == null ? Optional.empty() : Optional.of(entriesById.get(id));
    }

    /** Any kept entry of this id, including hidden deleted snapshots. */
    public Optional<Volume> byId(int id) {
        return Optional.ofNullable(entriesById.get(id));
    }

    /** The live volumes and snapshots, by name: what listings show. */
    public List<Volume> list() {
        return liveIdsByName.values().stream().map(entriesById::get).toList();
    }

    /** Every kept entry, by id, including deleted snapshots that clones still read through. */
    public Collection<Volume> entries() {
        return entriesById.values();
    }

    /** The id the next new entry will get. */
    public long nextId() {
        return nextId;
    }

    /** Entries whose parent is {@code id}. */
    public List<Volume> children(int id) {
        return entriesById.values().stream().filter(v -> v.parentId() == id).toList();
    }

    /**
     * The chain a read walks: the entry, its parent, the parent's parent, up to a root. Throws when
     * the id is not in the catalog.
     */
    public List<Volume> chain(int id) {
        List<Volume> chain = new ArrayList<>();
        Volume current = byId(id).orElseThrow(() -> new IllegalArgumentException(
            "volume id " + Integer.toUnsignedString(id) + " is not in the catalog"));
        chain.add(current);
        while (current.hasParent()) {
            current = entriesById.get(current.parentId());
            chain.add(current);
        }
        return chain;
    }

    /** The parent/child forest for {@code herd volume tree}. */
    public List<VolumeTree> tree() {
        return VolumeTree.of(this);
    }

    // ---- operations ----

    public CatalogResult create(String name, long sizeBytes, int copies, long createdMillis, String tag) {
        Optional<CatalogResult.Refused> refusal = firstOf(
            checkNewName("volume", name), checkSize(sizeBytes), checkCopies(copies), checkTag(tag), checkIdsLeft(1));
        if (refusal.isPresent()) {
            return refusal.get();
        }
        int id = (int) nextId;
        Volume volume = new Volume(id, name, sizeBytes, copies, createdMillis, tag, VolumeKind.WORKING,
            Volume.NO_PARENT, id, false, Optional.empty());
        Draft draft = draft();
        draft.put(volume);
        return new CatalogResult.Changed(draft.build(nextId + 1), List.of(volume));
    }

    /** Grows a working volume; the new part reads as zeros. */
    public CatalogResult resize(String name, long newSizeBytes) {
        Optional<CatalogResult.Refused> refusal = firstOf(findWorking(name, "resize"), checkSize(newSizeBytes));
        if (refusal.isPresent()) {
            return refusal.get();
        }
        Volume volume = byName(name).orElseThrow();
        if (newSizeBytes < volume.sizeBytes()) {
            return refused(RefusalCode.INVALID, "volume '" + name + "' is " + volume.sizeBytes()
                + " bytes; volumes only grow, so give a size of at least that (clone a snapshot to start smaller)");
        }
        Volume resized = volume.withSize(newSizeBytes);
        Draft draft = draft();
        draft.put(resized);
        return new CatalogResult.Changed(draft.build(nextId), List.of(resized));
    }

    /**
     * Deletes a volume or snapshot. A snapshot that clones or later snapshots still read through is
     * only marked deleted (hidden, name freed) and goes when its last dependant does; the affected
     * list holds the entry as it was.
     */
    public CatalogResult delete(String name) {
        Optional<Volume> found = byName(name);
        if (found.isEmpty()) {
            return notFound("volume or snapshot", name);
        }
        Volume entry = found.get();
        if (entry.attachedNode().isPresent()) {
            return attachedRefusal(entry, "delete");
        }
        Draft draft = draft();
        if (children(entry.id()).isEmpty()) {
            draft.removeAndPrune(entry);
        } else {
            draft.put(entry.asDeleted());
        }
        return new CatalogResult.Changed(draft.build(nextId), List.of(entry));
    }

    /**
     * Freezes the volume's current state as a snapshot. Sheepdog style: the snapshot takes over the
     * volume's id (and so its objects and inode), and the working volume continues under a new id
     * whose parent is the snapshot, with an empty inode. O(1): no object is read or copied. The
     * gateway serving an attached volume must switch to the new id before its next write.
     */
    public CatalogResult snapshot(String volumeName, String snapshotName, String tag, long createdMillis) {
        Optional<CatalogResult.Refused> refusal = firstOf(
            findWorking(volumeName, "snapshot"), checkNewName("snapshot", snapshotName), checkTag(tag), checkIdsLeft(1));
        if (refusal.isPresent()) {
            return refusal.get();
        }
        Volume volume = byName(volumeName).orElseThrow();
        Volume snapshot = new Volume(volume.id(), snapshotName, volume.sizeBytes(), volume.copies(), createdMillis, tag,
            VolumeKind.SNAPSHOT, volume.parentId(), volume.lineageId(), false, Optional.empty());
        Volume continued = volume.withId((int) nextId).withParent(volume.id());
        Draft draft = draft();
        draft.remove(volume);
        draft.put(snapshot);
        draft.put(continued);
        return new CatalogResult.Changed(draft.build(nextId + 1), List.of(snapshot, continued));
    }

    /** A new working volume whose unwritten objects read through to the snapshot. O(1). */
    public CatalogResult clone(String snapshotName, String newName, long createdMillis) {
        return clone(snapshotName, newName, createdMillis, 0);
    }

    /** A clone whose own objects are kept in {@code copies} copies; 0: the snapshot's. */
    public CatalogResult clone(String snapshotName, String newName, long createdMillis, int copies) {
        Optional<CatalogResult.Refused> refusal = firstOf(
            findSnapshot(snapshotName), checkNewName("volume", newName), checkIdsLeft(1));
        if (refusal.isPresent()) {
            return refusal.get();
        }
        Volume snapshot = byName(snapshotName).orElseThrow();
        int id = (int) nextId;
        Volume clone = new Volume(id, newName, snapshot.sizeBytes(), copies == 0 ? snapshot.copies() : copies, createdMillis, "",
            VolumeKind.WORKING, snapshot.id(), id, false, Optional.empty());
        Draft draft = draft();
        draft.put(clone);
        return new CatalogResult.Changed(draft.build(nextId + 1), List.of(clone));
    }

    /**
     * Returns a detached volume to the state of one of its own snapshots: the volume continues under a
     * new id whose parent is the snapshot (so it takes the snapshot's size), and what it wrote since
     * becomes reclaimable. O(1).
     */
    public CatalogResult rollback(String volumeName, String snapshotName) {
        Optional<CatalogResult.Refused> refusal =
            rollbackRefusal(volumeName, byName(volumeName), snapshotName, byName(snapshotName)).or(() -> checkIdsLeft(1));
        if (refusal.isPresent()) {
            return refusal.get();
        }
        Volume volume = byName(volumeName).orElseThrow();
        Volume snapshot = byName(snapshotName).orElseThrow();
        if (volume.attachedNode().isPresent()) {
            return attachedRefusal(volume, "roll back");
        }
        Volume rolledBack = volume.withId((int) nextId).withParent(snapshot.id()).withSize(snapshot.sizeBytes());
        Draft draft = draft();
        // The old id has no dependants (snapshots take over ids), but it may have been the last
        // dependant of deleted snapshots above it, which go with it.
        draft.removeAndPrune(volume);
        draft.put(rolledBack);
        return new CatalogResult.Changed(draft.build(nextId + 1), List.of(rolledBack));
    }

    /**
     * Why the volume (as found by its name) cannot be rolled back to the snapshot, whether or not it
     * is attached. The API asks before it stops serving an attached volume for the rollback, so that a
     * rollback refused for its snapshot leaves the volume's clients connected.
     */
    public static Optional<CatalogResult.Refused> rollbackRefusal(String volumeName, Optional<Volume> volume,
            String snapshotName, Optional<Volume> snapshot) {
        Optional<CatalogResult.Refused> missing =
            firstOf(workingRefusal(volumeName, volume, "roll back"), snapshotRefusal(snapshotName, snapshot));
        if (missing.isPresent() || snapshot.get().lineageId() == volume.get().lineageId()) {
            return missing;
        }
        return Optional.of(refused(RefusalCode.CONFLICT, "snapshot '" + snapshotName + "' was not taken of volume '"
            + volumeName + "': roll back to one of its own snapshots, or clone '" + snapshotName + "'" + TREE_HINT));
    }

    /** Records that {@code node}'s gateway serves the volume; attaching again to the same node is a no-op. */
    public CatalogResult attach(String volumeName, String node) {
        Optional<CatalogResult.Refused> refusal = findWorking(volumeName, "attach");
        if (refusal.isPresent()) {
            return refusal.get();
        }
        if (node == null || node.isBlank()) {
            return refused(RefusalCode.INVALID, "attach needs the name of the node that will serve volume '" + volumeName + "'");
        }
        Volume volume = byName(volumeName).orElseThrow();
        if (volume.attachedNode().isPresent() && !volume.attachedNode().get().equals(node)) {
            return refused(RefusalCode.CONFLICT, "volume '" + volumeName + "' is attached to node '"
                + volume.attachedNode().get() + "': detach it there first (a volume has one writer)");
        }
        return replace(volume.withAttachment(Optional.of(node)));
    }

    /** Clears the volume's attachment; detaching a detached volume is a no-op. */
    public CatalogResult detach(String volumeName) {
        Optional<Volume> volume = byName(volumeName);
        if (volume.isEmpty()) {
            return notFound("volume", volumeName);
        }
        return replace(volume.get().withAttachment(Optional.empty()));
    }

    /**
     * Detaches every volume attached to {@code node}, after the node was fenced: its gateway is
     * provably gone, so another node may attach them. The affected list names the released volumes.
     */
    public CatalogResult.Changed releaseAttachmentsOf(String node) {
        Draft draft = draft();
        List<Volume> released = new ArrayList<>();
        for (Volume volume : list()) {
            if (volume.attachedNode().filter(node::equals).isPresent()) {
                Volume detached = volume.withAttachment(Optional.empty());
                draft.put(detached);
                released.add(detached);
            }
        }
        return new CatalogResult.Changed(draft.build(nextId), released);
    }

    // ---- validation ----

    private Optional<CatalogResult.Refused> checkNewName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            return Optional.of(refused(RefusalCode.INVALID, what + " name '" + name + "' is not valid: use 1 to "
                + BlockLimits.MAX_NAME_CHARS + " letters, digits, '.', '_' or '-', like 'db-1' or 'db-1.daily'"));
        }
        if (liveIdsByName.containsKey(name)) {
            Volume existing = byName(name).orElseThrow();
            return Optional.of(refused(RefusalCode.CONFLICT, "the name '" + name + "' is taken by a "
                + (existing.isSnapshot() ? "snapshot" : "volume") + ": choose another name"));
        }
        return Optional.empty();
    }

    private static Optional<CatalogResult.Refused> checkSize(long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes % BlockLimits.SECTOR_BYTES != 0 || sizeBytes > BlockLimits.MAX_VOLUME_SIZE_BYTES) {
            return Optional.of(refused(RefusalCode.INVALID, "volume size " + sizeBytes + " bytes is not valid: give a multiple of "
                + BlockLimits.SECTOR_BYTES + " bytes, more than 0 and at most " + BlockLimits.MAX_VOLUME_SIZE_BYTES
                + " (64 TiB), like 10737418240 for 10 GiB"));
        }
        return Optional.empty();
    }

    private static Optional<CatalogResult.Refused> checkCopies(int copies) {
        if (copies < 1 || copies > BlockLimits.MAX_COPIES) {
            return Optional.of(refused(RefusalCode.INVALID, copies + " copies is not valid: give 1 to "
                + BlockLimits.MAX_COPIES + " (each copy is kept in its own zone; 3 is usual)"));
        }
        return Optional.empty();
    }

    private static Optional<CatalogResult.Refused> checkTag(String tag) {
        if (tag == null || tag.length() > BlockLimits.MAX_TAG_CHARS || tag.chars().anyMatch(Character::isISOControl)) {
            return Optional.of(refused(RefusalCode.INVALID, "tag is not valid: use at most "
                + BlockLimits.MAX_TAG_CHARS + " characters on one line (an empty tag is fine)"));
        }
        return Optional.empty();
    }

    private Optional<CatalogResult.Refused> checkIdsLeft(int needed) {
        if (nextId + needed - 1 > LAST_ID) {
            return Optional.of(refused(RefusalCode.LIMIT, "all 2^32 volume ids have been used; ids are never reused "
                + "because object names contain them, so this cluster cannot create more volumes or snapshots"));
        }
        return Optional.empty();
    }

    private Optional<CatalogResult.Refused> findWorking(String name, String action) {
        return workingRefusal(name, byName(name), action);
    }

    private static Optional<CatalogResult.Refused> workingRefusal(String name, Optional<Volume> volume, String action) {
        if (volume.isEmpty()) {
            return Optional.of(notFound("volume", name));
        }
        if (volume.get().isSnapshot()) {
            return Optional.of(refused(RefusalCode.CONFLICT, "cannot " + action + " '" + name
                + "': it is a read-only snapshot; clone it to get a volume you can change"));
        }
        return Optional.empty();
    }

    private Optional<CatalogResult.Refused> findSnapshot(String name) {
        return snapshotRefusal(name, byName(name));
    }

    private static Optional<CatalogResult.Refused> snapshotRefusal(String name, Optional<Volume> snapshot) {
        if (snapshot.isEmpty()) {
            return Optional.of(notFound("snapshot", name));
        }
        if (!snapshot.get().isSnapshot()) {
            return Optional.of(refused(RefusalCode.CONFLICT, "'" + name + "' is a working volume, not a snapshot: "
                + "take a snapshot of it first (herd volume snapshot " + name + " NAME)"));
        }
        return Optional.empty();
    }

    @SafeVarargs
    private static Optional<CatalogResult.Refused> firstOf(Optional<CatalogResult.Refused>... checks) {
        for (Optional<CatalogResult.Refused> check : checks) {
            if (check.isPresent()) {
                return check;
            }
        }
        return Optional.empty();
    }

    private static CatalogResult.Refused refused(RefusalCode code, String message) {
        return new CatalogResult.Refused(code, message);
    }

    private static CatalogResult.Refused notFound(String what, String name) {
        return refused(RefusalCode.NOT_FOUND, "there is no " + what + " named '" + name + "'" + " (see herd volume list)");
    }

    private static CatalogResult.Refused attachedRefusal(Volume volume, String action) {
        return refused(RefusalCode.CONFLICT, "cannot " + action + " volume '" + volume.name() + "' while it is attached to node '"
            + volume.attachedNode().orElseThrow() + "': detach it first");
    }

    private CatalogResult.Changed replace(Volume changed) {
        Draft draft = draft();
        draft.put(changed);
        return new CatalogResult.Changed(draft.build(nextId), List.of(changed));
    }

    private Draft draft() {
        return new Draft(new TreeMap<>(entriesById), new TreeMap<>(liveIdsByName));
    }

    /** The mutable copy an operation edits before it becomes the next catalog. */
    private static final class Draft {
        final TreeMap<Integer, Volume> byId;
        final TreeMap<String, Integer> byName;

        Draft(TreeMap<Integer, Volume> byId, TreeMap<String, Integer> byName) {
            this.byId = byId;
            this.byName = byName;
        }

        void put(Volume entry) {
            Volume previous = byId.put(entry.id(), entry);
            if (previous != null && !previous.deleted()) {
                byName.remove(previous.name());
            }
            if (!entry.deleted()) {
                byName.put(entry.name(), entry.id());
            }
        }

        void remove(Volume entry) {
            byId.remove(entry.id());
            byName.remove(entry.name(), entry.id());
        }

        /** Removes the entry, then every deleted ancestor left without dependants. */
        void removeAndPrune(Volume entry) {
            remove(entry);
            Volume parent = entry.hasParent() ? byId.get(entry.parentId()) : null;
            while (parent != null && parent.deleted() && hasNoChildren(parent.id())) {
                remove(parent);
                parent = parent.hasParent() ? byId.get(parent.parentId()) : null;
            }
        }

        private boolean hasNoChildren(int id) {
            return byId.values().stream().noneMatch(v -> v.parentId() == id);
        }

        VolumeCatalog build(long nextId) {
            return new VolumeCatalog(byId, byName, nextId);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof VolumeCatalog that && nextId == that.nextId && entriesById.equals(that.entriesById);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(nextId) * 31 + entriesById.hashCode();
    }

    @Override
    public String toString() {
        return "VolumeCatalog[entries=" + entriesById.size() + ", nextId=" + nextId + "]";
    }
}
