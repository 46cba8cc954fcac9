package herd.blockcore.recovery;

import herd.blockcore.ObjectId;
import java.util.List;

/**
 * Copy object {@code oid} to {@code target}, reading it from the first of {@code sources} that
 * answers: nodes holding a complete copy, those of the new placement first, then those of the old
 * placement, then any other.
 */
public record CopyTask(ObjectId oid, String target, List<String> sources) {
    public CopyTask {
        sources = List.copyOf(sources);
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("copy task for " + oid + " to " + target + " has no source");
        }
    }
}
