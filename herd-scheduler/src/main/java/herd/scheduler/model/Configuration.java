package herd.scheduler.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The whole configuration: properties, defaults, nodes, resources and constraints. */
public record Configuration(Map<String, String> properties, Map<String, String> resourceDefaults,
                            Map<String, String> operationDefaults, List<NodeConfig> nodes,
                            List<Resource> resources, List<Location> locations, List<Colocation> colocations,
                            List<Order> orders, List<TicketConstraint> tickets) {
    public Configuration {
        properties = Maps.copy(properties);
        resourceDefaults = Maps.copy(resourceDefaults);
        operationDefaults = Maps.copy(operationDefaults);
        nodes = List.copyOf(nodes);
        resources = List.copyOf(resources);
        locations = List.copyOf(locations);
        colocations = List.copyOf(colocations);
        orders = List.copyOf(orders);
        tickets = List.copyOf(tickets);
    }

    public static Configuration empty() {
        return new Configuration(Map.of(), Map.of(), Map.of(), List.of(), List.of(), List.of(), List.of(),
                List.of(), List.of());
    }

    public String property(String name, String fallback) {
        String v = properties.get(name);
        if (v == null) v = properties.get(name.replace('-', '_'));
        return v == null ? fallback : v;
    }

    /** Finds a resource by id at any depth (groups' members, clones' children). */
    public Optional<Resource> find(String id) {
        for (Resource r : resources) {
            Resource hit = find(r, id);
            if (hit != null) return Optional.of(hit);
        }
        return Optional.empty();
    }

    private static Resource find(Resource r, String id) {
        if (r.id().equals(id)) return r;
        if (r instanceof Group g) {
            for (Primitive p : g.members()) if (p.id().equals(id)) return p;
        } else if (r instanceof Clone c) {
            return find(c.child(), id);
        }
        return null;
    }
}
