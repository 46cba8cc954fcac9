/**
 * Recovery planning after a membership change, as in Sheepdog's epoch recovery.
 *
 * <p>Every change of the storage nodes (a node joins, leaves, or is lost) starts a new epoch with a
 * new {@link herd.blockcore.placement.Ring}. {@link herd.blockcore.recovery.RecoveryPlanner#plan}
 * compares each object's placement in the new ring with the nodes that report a complete copy, and
 * lists:
 * <ul>
 *   <li>a {@link herd.blockcore.recovery.CopyTask} for every node of the new placement that lacks
 *       the object, with the nodes to copy from (holders in the new placement first, because they
 *       stay, then the old placement's, then any other holder);</li>
 *   <li>a {@link herd.blockcore.recovery.DeleteTask} for a copy on a ring member outside the new
 *       placement, but only once every copy of the new placement is present, so a plan never deletes
 *       the last complete copy nor a copy recovery may still need as a source;</li>
 *   <li>lost objects, with no complete copy anywhere, and unplaceable objects (more copies than the
 *       new ring has zones), which are reported, never silently skipped.</li>
 * </ul>
 * Plans start from what nodes report, not from what the old ring says they should hold, so planning
 * again at any time (after partial progress, or after yet another change) lists exactly what is
 * still missing. {@link herd.blockcore.recovery.RecoveryProgress} measures a plan against fresh
 * reports; {@link herd.blockcore.recovery.RecoveryPlanner#canRemove} refuses to let a node go while
 * it holds a last copy or while the remaining zones are fewer than some volume's copies.
 */
package herd.blockcore.recovery;
