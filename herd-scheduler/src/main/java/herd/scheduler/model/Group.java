package herd.scheduler.model;

import java.util.List;
import java.util.Map;

/** Primitives that run together on one node, started in order and stopped in reverse. */
public record Group(String id, Map<String, String> meta, List<Primitive> members) implements Resource {
    public Group {
        meta = Maps.copy(meta);
        members = List.copyOf(members);
    }
}
