package herd.blockcore.recovery;

import herd.blockcore.ObjectId;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * How far a recovery has come, from its plan and the nodes' latest reports of which complete copies
 * they hold. Bytes count whole 4 MiB objects, an upper bound for the last object of a volume.
 */
public record RecoveryProgress(
        long epoch,
        int copiesTotal,
        int copiesToGo,
        int objectsToGo,
        long bytesToGo,
        int deletionsToGo,
        int lostObjects) {

    public static RecoveryProgress of(RecoveryPlan plan, Map<ObjectId, Set<String>> holders) {
        int copiesToGo = 0;
        Set<ObjectId> objectsToGo = new HashSet<>();
        for (CopyTask task : plan.copies()) {
            if (!holders.getOrDefault(task.oid(), Set.of()).contains(task.target())) {
                copiesToGo++;
                objectsToGo.add(task.oid());
            }
        }
        int deletionsToGo = (int) plan.deletions().stream()
            .filter(task -> holders.getOrDefault(task.oid(), Set.of()).contains(task.node()))
            .count();
        return new RecoveryProgress(plan.epoch(), plan.copies().size(), copiesToGo, objectsToGo.size(),
            (long) copiesToGo * ObjectId.OBJECT_SIZE_BYTES, deletionsToGo, plan.lost().size());
    }

    public boolean done() {
        return copiesToGo == 0 && deletionsToGo == 0;
    }

    /** Share of the plan's copies made, 1.0 for a plan with none. */
    public double fractionCopied() {
        return copiesTotal == 0 ? 1.0 : (double) (copiesTotal - copiesToGo) / copiesTotal;
    }
}
