/**
 * Volumes, snapshots and clones as copy-on-write metadata.
 *
 * <h2>The catalog</h2>
 * {@link herd.blockcore.volume.VolumeCatalog} is an immutable value holding every volume and
 * snapshot (Sheepdog's VDIs) by name and by a 32-bit id handed out in order and never reused.
 * Operations return a new catalog or a refusal that says what to fix; nothing half-happens, which is
 * what applying a Raft log entry needs.
 *
 * <h2>Inode fall-through</h2>
 * Each entry has its own id and a sparse {@link herd.blockcore.volume.Inode}: object index to the
 * id of the volume owning the object with that index's data. An index missing from an entry's inode
 * falls through to its parent's inode, then the grandparent's; missing everywhere, it reads as zeros
 * ({@link herd.blockcore.volume.ObjectMap#resolve}). Sheepdog copies the whole map (4 MiB for a 4 TiB
 * volume) on every snapshot and clone; falling through instead makes both O(1) at the price of a read
 * walking the chain (a gateway can cache the resolved map of the volume it serves).
 *
 * <h2>Snapshot, clone, rollback</h2>
 * <ul>
 *   <li><b>snapshot</b>: the volume's current id, with its inode and objects, becomes the read-only
 *       snapshot; the working volume continues under a new id whose parent is the snapshot and whose
 *       inode is empty. Nothing is read or copied. A gateway serving the volume must switch to the new
 *       id: a write to the old one is refused
 *       ({@link herd.blockcore.volume.WritePlan.Refused}).</li>
 *   <li><b>clone</b>: a new working volume, new id, parent the snapshot, empty inode.</li>
 *   <li><b>rollback</b>: the volume continues under a new id whose parent is one of its own
 *       snapshots; what it wrote since becomes unreachable. Only snapshots of the volume's lineage
 *       (taken of it, or of it before a rollback) qualify.</li>
 * </ul>
 * A working volume's id therefore never has dependants; only snapshots do. Ids grow down the tree: a
 * parent's id is always lower than its children's.
 *
 * <h2>Copy-on-write</h2>
 * A volume always writes its own object {@code (its id, index)}
 * ({@link herd.blockcore.volume.ObjectMap#writeTarget}). The first write to an index that reads from
 * another object first copies that object (unless the write covers all of it), and then records the
 * index in the volume's inode; that inode update is committed only after the new object is on all its
 * copies, so a crash in between leaves an unreferenced object, never a reference to a missing one.
 *
 * <h2>Reclamation</h2>
 * Deleting a volume drops its entry. Deleting a snapshot that clones or later snapshots still read
 * through only marks it deleted: hidden from listings, its name free again, kept until its last
 * dependant is gone, when it and any deleted ancestors left without dependants go too.
 * {@link herd.blockcore.volume.ObjectMap#reclaimable} lists the objects named by some inode that no
 * live entry resolves any index to: those of dropped entries and rolled-back states, and those of kept
 * deleted snapshots that every dependant has overwritten. It walks each live entry's chain, nearest
 * first, remembering which indexes are already decided; an object found that way is reachable. A
 * reclaimed object can never become reachable again, because deleted snapshots take no new
 * dependants and live inodes only gain entries. Inodes of dropped entries are listed by
 * {@link herd.blockcore.volume.ObjectMap#unusedInodes} and can go at once: every object of a dropped
 * entry is reclaimable by its owner id alone ({@link herd.blockcore.volume.ObjectMap#ownerDropped}).
 */
package herd.blockcore.volume;
