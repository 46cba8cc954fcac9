package herd.scheduler.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a configuration before it may reach the cluster state: unique ids, constraints that name
 * existing resources, no mandatory ordering cycles, agents that are complete. Nothing is applied when
 * any check fails.
 */
public final class Validator {
    private Validator() {}

    /** Throws {@link ConfigurationException} listing every problem, or returns the configuration unchanged. */
    public static Configuration requireValid(Configuration config) {
        List<String> problems = problems(config);
        if (!problems.isEmpty()) throw new ConfigurationException(problems);
        return config;
    }

    public static List<String> problems(Configuration config) {
        List<String> out = new ArrayList<>();
        Map<String, String> ids = new LinkedHashMap<>(); // id -> kind
        Map<String, String> topOf = new HashMap<>();
        for (Resource r : config.resources()) collect(r, r.id(), ids, topOf, out);
        for (NodeConfig n : config.nodes()) {
            if (n.uname() == null || n.uname().isBlank()) out.add("node " + n.id() + ": has no name");
        }
        for (Location l : config.locations()) {
            if (l.resource() != null && !ids.containsKey(l.resource())) {
                out.add("location " + l.id() + ": resource '" + l.resource() + "' does not exist");
            }
            if (l.resourcePattern() != null) {
                try {
                    java.util.regex.Pattern.compile(l.resourcePattern());
                } catch (java.util.regex.PatternSyntaxException e) {
                    out.add("location " + l.id() + ": rsc-pattern '" + l.resourcePattern() + "' is not a regular expression");
                }
            }
            if (l.node() == null && l.rules().isEmpty()) out.add("location " + l.id() + ": needs a node and score, or a rule");
            if (l.node() != null && l.score() == null) out.add("location " + l.id() + ": node " + l.node() + " has no score");
        }
        for (Colocation c : config.colocations()) {
            for (String r : List.of(c.dependent(), c.primary())) {
                if (!ids.containsKey(r)) out.add("colocation " + c.id() + ": resource '" + r + "' does not exist");
            }
            if (c.dependent().equals(c.primary())) out.add("colocation " + c.id() + ": a resource cannot be colocated with itself");
        }
        for (Order o : config.orders()) {
            for (String r : List.of(o.first(), o.then())) {
                if (!ids.containsKey(r)) out.add("order " + o.id() + ": resource '" + r + "' does not exist");
            }
            if (!List.of("Mandatory", "Optional", "Serialize").stream().anyMatch(k -> k.equalsIgnoreCase(o.kind()))) {
                out.add("order " + o.id() + ": kind '" + o.kind() + "' is not Mandatory, Optional or Serialize");
            }
            for (String a : List.of(o.firstAction(), o.thenAction())) {
                if (!List.of("start", "stop", "promote", "demote").contains(a)) {
                    out.add("order " + o.id() + ": action '" + a + "' is not start, stop, promote or demote");
                }
            }
        }
        for (TicketConstraint t : config.tickets()) {
            if (!ids.containsKey(t.resource())) out.add("rsc_ticket " + t.id() + ": resource '" + t.resource() + "' does not exist");
        }
        fencingTopology(config, out);
        String cycle = mandatoryCycle(config, topOf);
        if (cycle != null) out.add("order: mandatory orders form a cycle: " + cycle);
        return out;
    }

    /**
     * Every level names configured stonith primitives, at most once each; a target has one level per
     * index, indexes start at 1; a named target is a declared node (when nodes are declared at all).
     */
    private static void fencingTopology(Configuration config, List<String> out) {
        Set<String> nodeNames = new HashSet<>();
        for (NodeConfig n : config.nodes()) nodeNames.add(n.uname());
        Set<String> seen = new HashSet<>();
        Set<String> unknownTargets = new java.util.LinkedHashSet<>();
        for (FencingLevel l : config.fencingTopology()) {
            String where = "fencing_topology " + l.describe();
            if (l.target() == null || l.target().isBlank()) {
                out.add("fencing_topology level " + l.index() + ": has no target; name a node, or use the form for every node");
                continue;
            }
            if (l.index() < 1) {
                out.add(where + ": index " + l.index() + " is not valid; levels are numbered 1, 2, ... in the order they are tried");
            }
            if (!seen.add(l.target() + "\u0000" + l.index())) {
                out.add(where + ": is defined twice; give each of " + (l.forAllNodes() ? "the all-nodes" : l.target() + "'s")
                        + " levels its own index");
            }
            if (!l.forAllNodes() && !nodeNames.isEmpty() && !nodeNames.contains(l.target()) && unknownTargets.add(l.target())) {
                out.add("fencing_topology: node '" + l.target() + "' is not a configured node (nodes: "
                        + String.join(", ", config.nodes().stream().map(NodeConfig::uname).toList())
                        + "); correct the name or declare the node");
            }
            if (l.devices().isEmpty()) {
                out.add(where + ": lists no devices; give at least one stonith resource or remove the level");
            }
            Set<String> inLevel = new HashSet<>();
            for (String d : l.devices()) {
                if (!inLevel.add(d)) {
                    out.add(where + ": device '" + d + "' is listed twice");
                    continue;
                }
                Optional<Resource> r = config.find(d);
                if (r.isEmpty()) {
                    out.add(where + ": device '" + d + "' does not exist; define it (primitive " + d
                            + " stonith:AGENT ...) or remove it from the level");
                } else if (!(r.get() instanceof Primitive p) || !p.isFencingDevice()) {
                    out.add(where + ": '" + d + "' is a " + (r.get() instanceof Primitive p ? "primitive of class "
                            + p.agentClass() : "group or clone") + ", not a fence device; a level lists stonith primitives only "
                            + "(primitive ID stonith:AGENT)");
                }
            }
        }
    }

    private static void collect(Resource r, String top, Map<String, String> ids, Map<String, String> topOf, List<String> out) {
        String kind = switch (r) {
            case Primitive p -> "primitive";
            case Group g -> "group";
            case Clone c -> c.promotable() ? "promotable clone" : "clone";
        };
        if (r.id() == null || r.id().isBlank()) {
            out.add(kind + ": has no id");
            return;
        }
        if (ids.containsKey(r.id())) out.add(kind + " " + r.id() + ": id already used by a " + ids.get(r.id()));
        ids.put(r.id(), kind);
        topOf.put(r.id(), top);
        switch (r) {
            case Primitive p -> {
                if (p.agentClass() == null || p.agentClass().isBlank() || p.type() == null || p.type().isBlank()) {
                    out.add("primitive " + p.id() + ": needs an agent as class:provider:type or class:type");
                } else if ("ocf".equals(p.agentClass()) && (p.provider() == null || p.provider().isBlank())) {
                    out.add("primitive " + p.id() + ": an ocf agent needs a provider (ocf:PROVIDER:" + p.type() + ")");
                }
            }
            case Group g -> {
                if (g.members().isEmpty()) out.add("group " + g.id() + ": has no members");
                for (Primitive p : g.members()) collect(p, top, ids, topOf, out);
            }
            case Clone c -> collect(c.child(), top, ids, topOf, out);
        }
    }

    /** A cycle of mandatory start orders between top-level resources, as "a -> b -> a", or null. */
    private static String mandatoryCycle(Configuration config, Map<String, String> topOf) {
        Map<String, Set<String>> edges = new LinkedHashMap<>();
        for (Order o : config.orders()) {
            if (!o.mandatory()) continue;
            String a = topOf.get(o.first());
            String b = topOf.get(o.then());
            if (a == null || b == null || a.equals(b) && o.first().equals(o.then())) {
                if (a != null && o.first().equals(o.then())) return o.first() + " -> " + o.then();
                continue;
            }
            if (a.equals(b)) continue;
            edges.computeIfAbsent(a, k -> new java.util.LinkedHashSet<>()).add(b);
        }
        Set<String> done = new HashSet<>();
        for (String start : edges.keySet()) {
            List<String> path = new ArrayList<>();
            String found = dfs(start, edges, new HashSet<>(), done, path);
            if (found != null) return found;
        }
        return null;
    }

    private static String dfs(String node, Map<String, Set<String>> edges, Set<String> onPath, Set<String> done,
                              List<String> path) {
        if (done.contains(node)) return null;
        if (onPath.contains(node)) {
            List<String> cyc = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
            cyc.add(node);
            return String.join(" -> ", cyc);
        }
        onPath.add(node);
        path.add(node);
        for (String next : edges.getOrDefault(node, Set.of())) {
            String found = dfs(next, edges, onPath, done, path);
            if (found != null) return found;
        }
        path.remove(path.size() - 1);
        onPath.remove(node);
        done.add(node);
        return null;
    }
}
