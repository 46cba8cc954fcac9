package herd.scheduler.model;

import java.util.List;

/** All recorded operations of one resource on one node, as the node reported them. */
public record ResourceHistory(String resourceId, String agentClass, String provider, String type,
                              List<OpRecord> ops) {
    public ResourceHistory {
        ops = List.copyOf(ops);
    }
}
