package herd.sim;

import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What really runs where, whatever the cluster state says: per resource id as the executor knows it
 * (a clone instance such as "web:1" is a resource of its own there, with its own agent state, as
 * herd's executor runs it), the nodes whose process for it is alive.
 */
final class GroundTruth {
    private final TreeMap<String, TreeSet<String>> nodesByResource = new TreeMap<>();

    void started(String node, String resource) {
        nodesByResource.computeIfAbsent(resource, r -> new TreeSet<>()).add(node);
    }

    void stopped(String node, String resource) {
        TreeSet<String> nodes = nodesByResource.get(resource);
        if (nodes != null) {
            nodes.remove(node);
        }
    }

    boolean runs(String node, String resource) {
        TreeSet<String> nodes = nodesByResource.get(resource);
        return nodes != null && nodes.contains(node);
    }

    /** Everything on the node stops at once (power off, or its own stop on losing the lease). */
    List<String> clearNode(String node) {
        List<String> stopped = resourcesOn(node);
        nodesByResource.values().forEach(nodes -> nodes.remove(node));
        return stopped;
    }

    /** The resource's processes (every clone instance of it) die on every node. */
    Set<String> kill(String resource) {
        Set<String> nodes = nodesRunningAnyInstance(resource);
        nodesByResource.keySet().removeIf(id -> Simulation.baseOf(id).equals(resource));
        return nodes;
    }

    /** Nodes running the resource under any clone instance id. */
    Set<String> nodesRunningAnyInstance(String resource) {
        TreeSet<String> nodes = new TreeSet<>();
        nodesByResource.forEach((id, running) -> {
            if (Simulation.baseOf(id).equals(resource)) {
                nodes.addAll(running);
            }
        });
        return nodes;
    }

    /** Per node, how many instances of the resource run there. */
    TreeMap<String, Integer> instancesPerNode(String resource) {
        TreeMap<String, Integer> counts = new TreeMap<>();
        nodesByResource.forEach((id, running) -> {
            if (Simulation.baseOf(id).equals(resource)) {
                running.forEach(node -> counts.merge(node, 1, Integer::sum));
            }
        });
        return counts;
    }

    Set<String> nodesRunning(String resource) {
        TreeSet<String> nodes = nodesByResource.get(resource);
        return nodes == null ? new TreeSet<>() : new TreeSet<>(nodes);
    }

    List<String> resourcesOn(String node) {
        return nodesByResource.entrySet().stream().filter(e -> e.getValue().contains(node)).map(e -> e.getKey()).toList();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        nodesByResource.forEach((resource, nodes) -> {
            if (!nodes.isEmpty()) {
                text.append(text.isEmpty() ? "" : ", ").append(resource).append(nodes);
            }
        });
        return text.isEmpty() ? "nothing runs" : text.toString();
    }
}
