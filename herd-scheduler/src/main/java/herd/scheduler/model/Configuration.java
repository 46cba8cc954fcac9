package herd.scheduler.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole configuration: properties, defaults, nodes, resources, constraints and the fencing
 * topology (empty: every fence device is a level of its own, in configuration order).
 */
public record Configuration(Map<String, String> properties, Map<String, String> resourceDefaults,
                            Map<String, String> operationDefaults, List<NodeConfig> nodes,
                            List<Resource> resources, List<Location> locations, List<Colocation> colocations,
                            List<Order> orders, List<TicketConstraint> tickets, List<FencingLevel> fencingTopology) {
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
        fencingTopology = List.copyOf(fencingTopology);
    }

    /** A configuration without a fencing topology. */
    public Configuration(Map<String, String> properties, Map<String, String> resourceDefaults,
                         Map<String, String> operationDefaults, List<NodeConfig> nodes,
                         List<Resource> resources, List<Location> locations, List<Colocation> colocations,
                         List<Order> orders, List<TicketConstraint> tickets) {
        this(properties, resourceDefaults, operationDefaults, nodes, resources, locations, colocations, orders, tickets,
                List.of());
    }

    /** This configuration with other nodes (everything else, the fencing topology included, kept). */
    public Configuration withNodes(List<NodeConfig> newNodes) {
        return new Configuration(properties, resourceDefaults, operationDefaults, newNodes, resources, locations,
                colocations, orders, tickets, fencingTopology);
    }

    /** This configuration with other properties (everything else kept). */
    public Configuration withProperties(Map<String, String> newProperties) {
        return new Configuration(newProperties, resourceDefaults, operationDefaults, nodes, resources, locations,
                colocations, orders, tickets, fencingTopology);
    }

    /** This configuration with another fencing topology (everything else kept). */
    public Configuration withFencingTopology(List<FencingLevel> levels) {
        return new Configuration(properties, resourceDefaults, operationDefaults, nodes, resources, locations,
                colocations, orders, tickets, levels);
    }

    /**
     * The levels that fence {@code node}, sorted by index: its own levels if it has any, otherwise the
     * levels for all nodes (as Pacemaker prefers a level naming the node over a pattern); empty when
     * the topology says nothing about the node.
     */
    public List<FencingLevel> fencingLevelsFor(String node) {
        List<FencingLevel> own = fencingTopology.stream().filter(l -> l.target().equals(node)).toList();
        List<FencingLevel> chosen = own.isEmpty()
                ? fencingTopology.stream().filter(FencingLevel::forAllNodes).toList() : own;
        return chosen.stream().sorted(java.util.Comparator.comparingInt(FencingLevel::index)).toList();
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
