package herd.agent.fence;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What {@link Fencer} did: every device run in order, and the level (1-based) that succeeded, or 0.
 */
public record FencingOutcome(String targetNode, FenceAction action, boolean success, int succeededLevel,
                             List<FenceResult> attempts) {

    public FencingOutcome {
        attempts = List.copyOf(attempts);
    }

    /** Every failed attempt, one per line, for the log and the cluster's history. */
    public String failures() {
        return attempts.stream().filter(r -> !r.success()).map(FenceResult::toString).collect(Collectors.joining("\n"));
    }
}
