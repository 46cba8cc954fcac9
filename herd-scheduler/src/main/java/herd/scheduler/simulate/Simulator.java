package herd.scheduler.simulate;

import herd.scheduler.Scheduler;
import herd.scheduler.Transition;
import herd.scheduler.cib.CibXml;
import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Group;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.NodeState;
import herd.scheduler.model.OpRecord;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.scheduler.model.ResourceHistory;
import herd.scheduler.model.Score;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code herd simulate}: reads a Pacemaker CIB, schedules it, and prints the result in crm_simulate's
 * layout (current status, transition summary, the actions, the revised status). Pure: the caller
 * passes the CIB text and the time.
 */
public final class Simulator {

    /**
     * What to simulate.
     *
     * @param showScores print the allocation and promotion scores first
     * @param nodeFail   nodes to treat as failed (left the cluster unexpectedly)
     * @param opFail     operation results to inject, "rsc_task_intervalms@node=rc" as crm_simulate takes them
     */
    public record Options(boolean showScores, List<String> nodeFail, List<String> opFail) {
        public Options {
            nodeFail = List.copyOf(nodeFail);
            opFail = List.copyOf(opFail);
        }

        public static Options defaults() {
            return new Options(false, List.of(), List.of());
        }
    }

    private Simulator() {}

    /**
     * Simulates the CIB and returns crm_simulate's text.
     *
     * @param cibXml    the CIB (configuration and status)
     * @param options   scores, injected failures
     * @param nowSec    the time to schedule at, unless the CIB records its own execution-date
     */
    public static String simulate(String cibXml, Options options, long nowSec) {
        CibXml.Parsed parsed = CibXml.parse(cibXml);
        long now = parsed.executionDateSec() != null ? parsed.executionDateSec() : nowSec;
        return simulate(parsed.state(), options, now);
    }

    /**
     * Simulates a live cluster: its configuration, and its nodes all online with nothing reported
     * running (herd's executor, which will report resources' state, is not there yet). Nodes the
     * configuration does not name are added as plain members.
     */
    public static String simulateLive(Configuration config, List<String> onlineNodes, Options options, long nowSec) {
        List<NodeConfig> nodes = new ArrayList<>(config.nodes());
        for (String name : onlineNodes) {
            if (nodes.stream().noneMatch(node -> node.uname().equals(name))) {
                nodes.add(new NodeConfig(name, name, "member", Map.of(), Map.of(), null));
            }
        }
        Configuration withNodes = config.withNodes(nodes);
        List<NodeState> states = new ArrayList<>();
        for (NodeConfig node : nodes) {
            boolean online = onlineNodes.contains(node.uname());
            states.add(new NodeState(node.id(), node.uname(), online, online ? "online" : "offline",
                online ? "member" : "down", online ? "member" : "down", false, Map.of(), List.of()));
        }
        return simulate(new ClusterState(withNodes, states, true), options, nowSec);
    }

    /** Schedules {@code parsed} (after the injected failures) and prints crm_simulate's layout. */
    public static String simulate(ClusterState parsed, Options options, long now) {
        ClusterState state = inject(parsed, options);
        Transition t = Scheduler.schedule(state, now);
        StringBuilder out = new StringBuilder();
        if (options.showScores()) appendScores(out, t);
        StatusPrinter printer = new StatusPrinter(state, t);
        out.append("Current cluster status:\n");
        printer.print(out, false);
        out.append("\nTransition Summary:\n");
        appendSummary(out, t);
        out.append("\nExecuting Cluster Transition:\n");
        appendActions(out, t);
        out.append("\nRevised Cluster Status:\n");
        printer.print(out, true);
        return out.toString();
    }

    /** Command-line use: {@code Simulator [--show-scores] [--node-fail NODE]... [--op-fail SPEC]... FILE.xml}. */
    public static void main(String[] args) throws IOException {
        boolean scores = false;
        boolean timing = false;
        List<String> nodeFail = new ArrayList<>();
        List<String> opFail = new ArrayList<>();
        String file = null;
        for (int k = 0; k < args.length; k++) {
            switch (args[k]) {
                case "-s", "--show-scores" -> scores = true;
                case "--timing" -> timing = true;
                case "--node-fail" -> nodeFail.add(args[++k]);
                case "--op-fail", "--op-inject" -> opFail.add(args[++k]);
                case "--cib", "-x", "--xml-file" -> file = args[++k];
                default -> file = args[k];
            }
        }
        if (file == null) {
            System.err.println("usage: Simulator [--show-scores] [--node-fail NODE]... [--op-fail RSC_TASK_MS@NODE=RC]... --cib FILE.xml");
            System.exit(2);
        }
        String xml = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        try {
            if (timing) {
                printTiming(xml);
                return;
            }
            System.out.print(simulate(xml, new Options(scores, nodeFail, opFail), System.currentTimeMillis() / 1000));
        } catch (IllegalArgumentException e) {
            System.err.println("herd simulate: " + file + ": " + e.getMessage());
            System.exit(1);
        }
    }

    /** Prints how long reading the CIB and scheduling take, in milliseconds (best of three runs). */
    private static void printTiming(String xml) {
        long bestParse = Long.MAX_VALUE;
        long bestSchedule = Long.MAX_VALUE;
        int changes = 0;
        for (int run = 0; run < 3; run++) {
            long t0 = System.nanoTime();
            CibXml.Parsed parsed = CibXml.parse(xml);
            long t1 = System.nanoTime();
            Transition t = Scheduler.schedule(parsed.state(), parsed.executionDateSec() == null ? 0 : parsed.executionDateSec());
            long t2 = System.nanoTime();
            bestParse = Math.min(bestParse, (t1 - t0) / 1_000_000);
            bestSchedule = Math.min(bestSchedule, (t2 - t1) / 1_000_000);
            changes = t.changes().size();
        }
        System.out.println("parse_ms=" + bestParse + " schedule_ms=" + bestSchedule + " changes=" + changes);
    }

    // ------------------------------------------------------------------ injection

    private static final Pattern OP_SPEC = Pattern.compile("(.+)_([a-z_]+)_(\\d+)@([^=]+)=(-?\\d+)");

    /** Applies --node-fail and --op-fail to the state before scheduling. */
    static ClusterState inject(ClusterState state, Options options) {
        if (options.nodeFail().isEmpty() && options.opFail().isEmpty()) return state;
        Map<String, NodeState> byName = new LinkedHashMap<>();
        for (NodeState ns : state.nodeStates()) byName.put(ns.uname(), ns);
        for (String node : options.nodeFail()) {
            NodeState ns = byName.get(node);
            if (ns == null) {
                ensureKnown(state, node);
                continue;
            }
            byName.put(node, new NodeState(ns.id(), ns.uname(), false, "offline", ns.join(), "member", false,
                    ns.transientAttributes(), ns.history()));
        }
        int call = 100000;
        for (String spec : options.opFail()) {
            Matcher m = OP_SPEC.matcher(spec);
            if (!m.matches()) {
                throw new IllegalArgumentException("--op-fail '" + spec
                        + "' is not RESOURCE_TASK_INTERVALMS@NODE=RC (e.g. db_monitor_10000@node1=7)");
            }
            String rsc = m.group(1);
            String node = m.group(4);
            NodeState ns = byName.get(node);
            if (ns == null) throw new IllegalArgumentException("--op-fail names node '" + node + "', which has no state");
            List<ResourceHistory> hist = new ArrayList<>();
            boolean found = false;
            OpRecord op = new OpRecord(rsc + "_last_failure_0", m.group(2), Long.parseLong(m.group(3)),
                    Integer.parseInt(m.group(5)), 0, call++, m.group(2).equals("monitor") && m.group(3).equals("0") ? 7 : 0,
                    0, 0, null, null, null, null);
            for (ResourceHistory h : ns.history()) {
                if (h.resourceId().equals(rsc)) {
                    List<OpRecord> ops = new ArrayList<>(h.ops());
                    ops.add(op);
                    hist.add(new ResourceHistory(h.resourceId(), h.agentClass(), h.provider(), h.type(), ops));
                    found = true;
                } else {
                    hist.add(h);
                }
            }
            if (!found) {
                Primitive p = findPrimitive(state, rsc);
                if (p == null) throw new IllegalArgumentException("--op-fail names resource '" + rsc + "', which is not configured");
                hist.add(new ResourceHistory(rsc, p.agentClass(), p.provider(), p.type(), List.of(op)));
            }
            byName.put(node, new NodeState(ns.id(), ns.uname(), ns.inCluster(), ns.peer(), ns.join(), ns.expected(),
                    ns.terminate(), ns.transientAttributes(), hist));
        }
        return new ClusterState(state.config(), new ArrayList<>(byName.values()), state.haveQuorum(), state.tickets(),
                state.standbyTickets());
    }

    private static void ensureKnown(ClusterState state, String node) {
        for (NodeConfig n : state.config().nodes()) if (n.uname().equals(node)) return;
        throw new IllegalArgumentException("--node-fail names node '" + node + "', which is not configured");
    }

    private static Primitive findPrimitive(ClusterState state, String id) {
        String base = id.contains(":") ? id.substring(0, id.indexOf(':')) : id;
        Resource r = state.config().find(base).orElse(null);
        return r instanceof Primitive p ? p : null;
    }

    // ------------------------------------------------------------------ printing

    private static void appendScores(StringBuilder out, Transition t) {
        t.allocationScores().forEach((rsc, byNode) -> byNode.forEach((node, score) -> out.append("pcmk__assign: ")
                .append(rsc).append(" allocation score on ").append(node).append(": ").append(Score.format(score)).append('\n')));
        t.promotionScores().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.append(e.getKey()).append(" promotion score: ").append(Score.format(e.getValue())).append('\n'));
    }

    private static void appendSummary(StringBuilder out, Transition t) {
        int width = 0;
        for (Transition.Change c : t.changes()) if (!c.kind().startsWith("Fence")) width = Math.max(width, c.resource().length());
        for (Transition.Change c : t.changes()) {
            if (c.kind().startsWith("Fence")) {
                out.append("  * ").append(c.kind()).append(' ').append(c.resource()).append(" '").append(c.reason()).append("'\n");
                continue;
            }
            out.append(String.format("  * %-8s   %-" + width + "s   ( %s )", c.kind(), c.resource(), c.details()));
            if (c.reason() != null) out.append("  ").append(c.reason());
            out.append('\n');
        }
    }

    private static void appendActions(StringBuilder out, Transition t) {
        for (Transition.Action a : t.actions()) {
            if (a.task().equals("stonith")) {
                out.append("  * Fencing ").append(a.node()).append(" (reboot)\n");
                continue;
            }
            String task = a.intervalMs() > 0 ? a.task() + "=" + a.intervalMs() : a.task();
            if (a.pseudo()) {
                out.append("  * Pseudo action:   ").append(a.resource()).append('_').append(a.task()).append("_0\n");
            } else {
                out.append(String.format("  * Resource action: %-15s %s on %s%n", a.resource(), task, a.node()));
            }
        }
    }

    /** Prints the node list and the resources, before or after the transition. */
    static final class StatusPrinter {
        private final ClusterState state;
        private final Transition t;
        private final Map<String, Transition.Placement> byId = new LinkedHashMap<>();

        StatusPrinter(ClusterState state, Transition t) {
            this.state = state;
            this.t = t;
            for (Transition.Placement p : t.revised()) byId.put(p.resource(), p);
        }

        void print(StringBuilder out, boolean after) {
            out.append("  * Node List:\n");
            printNodes(out, after);
            out.append("\n  * Full List of Resources:\n");
            for (Resource r : state.config().resources()) printResource(out, r, after, "    ");
            for (Transition.Placement p : t.revised()) {
                if (byId.containsKey(p.resource()) && state.config().find(base(p.resource())).isEmpty()) {
                    List<String> nodes = after ? (p.nextNode() == null ? List.of() : List.of(p.nextNode())) : p.currentNodes();
                    if (!nodes.isEmpty()) {
                        out.append("    * ").append(p.resource()).append("\t(").append(p.agent()).append("):\t ORPHANED Started ")
                                .append(String.join(" ", nodes)).append('\n');
                    }
                }
            }
        }

        private static String base(String id) {
            return id.contains(":") ? id.substring(0, id.indexOf(':')) : id;
        }

        private void printNodes(StringBuilder out, boolean after) {
            List<String> online = new ArrayList<>();
            List<String> offline = new ArrayList<>();
            Map<String, NodeState> states = new LinkedHashMap<>();
            for (NodeState ns : state.nodeStates()) states.put(ns.uname(), ns);
            java.util.Set<String> fenced = new java.util.HashSet<>();
            for (Transition.Change c : t.changes()) if (c.kind().startsWith("Fence")) fenced.add(c.resource());
            for (NodeConfig n : state.config().nodes()) {
                NodeState ns = states.get(n.uname());
                boolean up = ns != null && ns.inCluster() && "online".equals(ns.peer()) && "member".equals(ns.join());
                if (after && fenced.contains(n.uname())) up = false;
                boolean standby = Scheduler.isTrue(n.attributes().get("standby"))
                        || (ns != null && Scheduler.isTrue(ns.transientAttributes().get("standby")));
                if (!after && fenced.contains(n.uname())) {
                    out.append("    * Node ").append(n.uname()).append(": UNCLEAN (").append(up ? "online" : "offline").append(")\n");
                } else if (up && standby) {
                    out.append("    * Node ").append(n.uname()).append(": standby\n");
                } else if (up) {
                    online.add(n.uname());
                } else {
                    offline.add(n.uname());
                }
            }
            if (!online.isEmpty()) out.append("    * Online: [ ").append(String.join(" ", online)).append(" ]\n");
            if (!offline.isEmpty()) out.append("    * OFFLINE: [ ").append(String.join(" ", offline)).append(" ]\n");
        }

        private String stateText(Transition.Placement p, boolean after) {
            String node = after ? p.nextNode() : (p.currentNodes().isEmpty() ? null : p.currentNodes().get(0));
            String role = after ? p.nextRole() : p.currentRole();
            if (node == null) return "Stopped";
            String text = (!after && p.failed() ? "FAILED " : "") + role + " " + node;
            if (!after && p.failed()) text = "FAILED " + node;
            if (!p.managed()) text += " (unmanaged)";
            return text;
        }

        private void printResource(StringBuilder out, Resource r, boolean after, String indent) {
            switch (r) {
                case Primitive p -> {
                    Transition.Placement pl = byId.get(p.id());
                    if (pl == null) return;
                    out.append(indent).append("* ").append(p.id()).append("\t(").append(p.agent()).append("):\t ")
                            .append(stateText(pl, after)).append('\n');
                }
                case Group g -> {
                    out.append(indent).append("* Resource Group: ").append(g.id()).append(":\n");
                    for (Primitive m : g.members()) printResource(out, m, after, indent + "  ");
                }
                case Clone c -> printClone(out, c, after, indent);
            }
        }

        private void printClone(StringBuilder out, Clone c, boolean after, String indent) {
            boolean unique = Scheduler.isTrue(c.meta().get("globally-unique"));
            List<String> flags = new ArrayList<>();
            if (c.promotable()) flags.add("promotable");
            if (unique) flags.add("unique");
            out.append(indent).append("* Clone Set: ").append(c.id()).append(" [").append(c.child().id()).append("]")
                    .append(flags.isEmpty() ? "" : " (" + String.join(", ", flags) + ")").append(":\n");
            String inner = indent + "  ";
            List<Transition.Placement> instances = new ArrayList<>();
            for (Transition.Placement p : t.revised()) {
                if (c.id().equals(p.parent()) && p.resource().startsWith(firstPrimitive(c.child()) + ":")) instances.add(p);
            }
            if (unique) {
                for (Transition.Placement p : instances) {
                    out.append(inner).append("* ").append(p.resource()).append("\t(").append(p.agent()).append("):\t ")
                            .append(stateText(p, after)).append('\n');
                }
                return;
            }
            Map<String, List<String>> byRole = new LinkedHashMap<>();
            java.util.Set<String> used = new java.util.LinkedHashSet<>();
            for (Transition.Placement p : instances) {
                String node = after ? p.nextNode() : (p.currentNodes().isEmpty() ? null : p.currentNodes().get(0));
                if (node == null) continue;
                used.add(node);
                if (!after && p.failed()) {
                    out.append(inner).append("* ").append(base(p.resource())).append("\t(").append(p.agent()).append("):\t FAILED ")
                            .append(node).append('\n');
                    continue;
                }
                byRole.computeIfAbsent(after ? p.nextRole() : p.currentRole(), k -> new ArrayList<>()).add(node);
            }
            for (String role : List.of("Promoted", "Unpromoted", "Started")) {
                List<String> ns = byRole.get(role);
                if (ns == null) continue;
                ns.sort(null);
                out.append(inner).append("* ").append(role).append(": [ ").append(String.join(" ", ns)).append(" ]\n");
            }
            List<String> stopped = new ArrayList<>();
            for (NodeConfig n : state.config().nodes()) if (!used.contains(n.uname())) stopped.add(n.uname());
            stopped.sort(null);
            if (!stopped.isEmpty()) out.append(inner).append("* Stopped: [ ").append(String.join(" ", stopped)).append(" ]\n");
        }

        private static String firstPrimitive(Resource r) {
            if (r instanceof Group g) return g.members().isEmpty() ? g.id() : g.members().get(0).id();
            return r.id();
        }
    }
}
