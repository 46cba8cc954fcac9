package herd.scheduler.model;

import java.util.Map;

/** A configured resource: a primitive, a group of primitives, or a clone of either. */
public sealed interface Resource permits Primitive, Group, Clone {
    String id();

    Map<String, String> meta();
}
