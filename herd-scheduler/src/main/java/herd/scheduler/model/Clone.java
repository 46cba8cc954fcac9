package herd.scheduler.model;

import java.util.Map;

/**
 * Copies of a primitive or group on several nodes (clone-max, clone-node-max, globally-unique,
 * interleave, notify); promotable clones also have promoted-max and promoted-node-max.
 */
public record Clone(String id, Map<String, String> meta, Resource child, boolean promotable) implements Resource {
    public Clone {
        meta = Maps.copy(meta);
        if (child instanceof Clone) throw new IllegalArgumentException("clone " + id + " cannot contain a clone");
    }
}
