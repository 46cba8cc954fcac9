package herd.server.storage;

import herd.blockcore.ObjectId;
import herd.blockcore.volume.ObjectMap;
import herd.core.command.QueryResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks every copy of the objects a volume reads, as Sheepdog's {@code dog vdi check} does: each
 * node holding a copy reads it whole and checks every block against its checksum, and a copy that
 * fails is mended from one that passed. Reads reach only the first copy that reads well (this
 * node's own first), so damage to the other copies would otherwise show only once that copy is lost.
 *
 * <p>One call checks a range of the volume's object indexes, so that a caller walks a volume of any
 * size in calls that each end within seconds and can show progress ({@code herd volume check}).
 * Indexes backed by no object read as zeros and have nothing to check; an index the volume still
 * reads from a snapshot checks the snapshot's object, which is the data the volume reads.
 */
public final class VolumeCheck {
    /** Most object indexes one call covers: each object is read whole on every node holding a copy. */
    public static final int MAX_OBJECTS_PER_CALL = 64;

    /** A damaged copy, mended from a good one. */
    public record Repair(int index, ObjectId object, String node) {}

    /** A copy that could not be checked, is damaged and could not be mended, or is missing beside a good one; and why. */
    public record Problem(int index, ObjectId object, String node, String problem) {}

    /**
     * @param objectCount the volume's object indexes (its size in 4 MiB objects)
     * @param next the index the next call starts at; {@code objectCount} once the volume is done
     * @param objectsChecked the indexes of the range backed by an object
     * @param copiesGood copies that read whole and passed, or that hold no such object like the others
     */
    public record Report(String volume, long objectCount, long from, long next, int objectsChecked, int copiesGood,
                         List<Repair> repaired, List<Problem> problems) {}

    private final ReplicatedObjectIo copies;

    VolumeCheck(ReplicatedObjectIo copies) {
        this.copies = copies;
    }

    /** The number of object indexes of a volume of {@code sizeBytes}. */
    private static long objectCount(long sizeBytes) {
        return Math.ceilDiv(sizeBytes, ObjectId.OBJECT_SIZE_BYTES);
    }

    /**
     * Checks the volume's indexes from {@code from} on, at most {@code maxObjects} of them.
     *
     * @throws IllegalArgumentException when {@code from} lies beyond the volume or {@code maxObjects}
     *     is not between 1 and {@link #MAX_OBJECTS_PER_CALL}
     */
    public Report check(QueryResult.VolumeDetail detail, long from, int maxObjects) {
        VolumeView view = VolumeView.of(detail);
        long objectCount = objectCount(view.sizeBytes());
        if (from < 0 || from > objectCount) {
            throw new IllegalArgumentException("from=" + from + " is outside volume '" + view.name() + "', which has "
                + objectCount + " object(s) (indexes 0 to " + (objectCount - 1) + ")");
        }
        if (maxObjects < 1 || maxObjects > MAX_OBJECTS_PER_CALL) {
            throw new IllegalArgumentException("count=" + maxObjects + " must be between 1 and " + MAX_OBJECTS_PER_CALL);
        }
        long next = Math.min(objectCount, from + maxObjects);
        int objectsChecked = 0;
        int copiesGood = 0;
        List<Repair> repaired = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (int index = (int) from; index < next; index++) {
            Optional<ObjectId> object = ObjectMap.resolve(view.chain(), view.inodes(), view.volumeId(), index);
            if (object.isEmpty()) {
                continue;
            }
            ReplicatedObjectIo.CopyCheck found = copies.check(object.get());
            objectsChecked++;
            copiesGood += found.good().size();
            for (String node : found.repaired()) {
                repaired.add(new Repair(index, object.get(), node));
            }
            for (Map.Entry<String, String> problem : found.problems().entrySet()) {
                problems.add(new Problem(index, object.get(), problem.getKey(), problem.getValue()));
            }
        }
        return new Report(view.name(), objectCount, from, next, objectsChecked, copiesGood, List.copyOf(repaired),
            List.copyOf(problems));
    }
}
