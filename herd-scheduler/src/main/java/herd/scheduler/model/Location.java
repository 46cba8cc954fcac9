package herd.scheduler.model;

import java.util.List;

/**
 * Where a resource may or should run: a fixed score on one node, or rules evaluated on every node.
 *
 * @param resource        the resource id (or null when {@code resourcePattern} is used)
 * @param resourcePattern a regular expression over resource ids, or null
 * @param role            the role the constraint applies to (Promoted for promotion preference), or null
 */
public record Location(String id, String resource, String resourcePattern, String node, Integer score,
                       Role role, List<Rule> rules, String resourceDiscovery) {
    public Location {
        rules = List.copyOf(rules);
    }
}
