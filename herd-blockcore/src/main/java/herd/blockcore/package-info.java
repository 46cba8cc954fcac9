/**
 * The pure core of herd's replicated block storage: where objects go, and how volumes, snapshots
 * and clones share them. No I/O, no clock, no threads; the edge modules keep this module's data in
 * the Raft-replicated cluster state, and the server's storage recovery moves objects after a
 * membership change.
 *
 * <p>Terms follow Sheepdog's, so operators who know it feel at home:
 * <ul>
 *   <li><b>object</b>: 4 MiB of one volume's data, named by {@link herd.blockcore.ObjectId}
 *       (the id of the volume that wrote it, and the index within the volume);</li>
 *   <li><b>copies</b>: how many nodes hold each object of a volume, each in its own <b>zone</b>;</li>
 *   <li><b>vnode</b>: one of a node's points on the consistent-hashing ring, their number following
 *       the node's capacity ({@link herd.blockcore.placement});</li>
 *   <li><b>epoch</b>: the number of a membership; every change of the storage nodes starts a new
 *       epoch, whose ring decides placement ({@link herd.blockcore.placement.Ring#epoch()});</li>
 *   <li><b>inode</b>: a volume's map from object index to owning volume id, falling through to its
 *       parent's ({@link herd.blockcore.volume}).</li>
 * </ul>
 *
 * <p>Limits are named in {@link herd.blockcore.BlockLimits} and
 * {@link herd.blockcore.placement.Ring}.
 */
package herd.blockcore;
