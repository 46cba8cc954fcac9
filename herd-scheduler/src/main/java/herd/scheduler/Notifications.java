package herd.scheduler;

import herd.scheduler.Scheduler.CloneRt;
import herd.scheduler.Scheduler.Inst;
import herd.scheduler.Scheduler.NodeInfo;
import herd.scheduler.model.Role;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Pacemaker's clone notifications. The instances of a clone with meta {@code notify=true} are told,
 * through the agent's {@code notify} action, before and after the clone starts, stops, promotes or
 * demotes any of its instances: agents such as DRBD or Galera reconfigure their peers then.
 *
 * <p>Each such phase of the transition becomes, as in Pacemaker:
 * <pre>
 *   clone_pre_notify_X -> notify (every instance active then) -> clone_confirmed-pre_notify_X
 *     -> clone_X -> the instances' X actions -> clone_Xed
 *     -> clone_post_notify_Xed -> notify (every instance active then) -> clone_confirmed-post_notify_Xed
 * </pre>
 * and the phases follow each other: demote, stop, start, promote. Every notify action carries what
 * Pacemaker gives agents: the type (pre or post), the operation, and who starts, stops, promotes,
 * demotes, is active, promoted, unpromoted or inactive, as space-separated lists.
 */
final class Notifications {

    /** One phase of a clone's transition: what its instances do, and the clone's pseudo action once they have. */
    enum Phase {
        DEMOTE("demote", "demoted"), STOP("stop", "stopped"), START("start", "running"), PROMOTE("promote", "promoted");

        final String task;
        final String done;

        Phase(String task, String done) {
            this.task = task;
            this.done = done;
        }
    }

    /** An instance on a node, as the notification lists name them. */
    private record Entry(String resource, String node) {}

    /** An instance told of a phase: before it (pre) or after it, on that node. */
    private record Recipient(boolean pre, String node) {}

    /** The ids of the pseudo actions that open and close one phase's notifications. */
    private record Bracket(int pre, int preDone, int post, int postDone) {}

    /**
     * How the builder files an action: ids index the builder's list; {@code sortKey} places it among
     * the others when the graph is put in execution order.
     */
    interface Graph {
        List<Transition.Action> actions();

        long sortKey(int id);

        int add(String resource, String task, String node, boolean pseudo, Map<String, String> meta, long sortKey);

        void order(int before, int after);
    }

    private final Graph graph;
    private final TransitionBuilder builder;
    private final Scheduler s;

    private Notifications(Graph graph, TransitionBuilder builder, Scheduler s) {
        this.graph = graph;
        this.builder = builder;
        this.s = s;
    }

    /** Adds the notifications of every clone with notify=true among {@code all}. */
    static void add(Graph graph, TransitionBuilder builder, Scheduler s, List<Inst> all, List<String> fenced) {
        Notifications n = new Notifications(graph, builder, s);
        Map<CloneRt, List<Inst>> byClone = new LinkedHashMap<>();
        for (Inst i : all) {
            if (i.unit.clone != null && Scheduler.isTrue(i.unit.clone.meta.get("notify"))) {
                byClone.computeIfAbsent(i.unit.clone, c -> new ArrayList<>()).add(i);
            }
        }
        byClone.forEach((clone, instances) -> n.addClone(clone.def.id(), instances, fenced));
    }

    private void addClone(String cloneId, List<Inst> instances, List<String> fenced) {
        Map<Phase, List<Integer>> phaseActions = phaseActions(instances);
        Map<String, String> common = commonData(instances, phaseActions);
        List<Bracket> brackets = new ArrayList<>();
        for (Phase phase : Phase.values()) {
            List<Integer> acts = phaseActions.get(phase);
            if (!acts.isEmpty()) brackets.add(addPhase(cloneId, phase, acts, instances, fenced, common));
        }
        // Each phase's post-notifications are confirmed before the next phase's pre-notifications start.
        for (int a = 0; a < brackets.size(); a++) {
            for (int b = a + 1; b < brackets.size(); b++) graph.order(brackets.get(a).postDone(), brackets.get(b).pre());
        }
    }

    /** Per phase, the ids of the instances' actions of that kind (a stop implied by fencing included). */
    private Map<Phase, List<Integer>> phaseActions(List<Inst> instances) {
        Set<String> ids = new LinkedHashSet<>();
        for (Inst i : instances) ids.add(i.id);
        Map<Phase, List<Integer>> byPhase = new LinkedHashMap<>();
        for (Phase p : Phase.values()) byPhase.put(p, new ArrayList<>());
        for (Transition.Action a : graph.actions()) {
            if (a.intervalMs() != 0 || a.resource() == null || !ids.contains(a.resource())) continue;
            for (Phase p : Phase.values()) if (p.task.equals(a.task())) byPhase.get(p).add(a.id());
        }
        return byPhase;
    }

    private Bracket addPhase(String cloneId, Phase phase, List<Integer> acts, List<Inst> instances, List<String> fenced,
                             Map<String, String> common) {
        long first = acts.stream().mapToLong(graph::sortKey).min().orElseThrow();
        long last = acts.stream().mapToLong(graph::sortKey).max().orElseThrow();
        // Pre items sit just before the phase's first action, post items just after its last.
        long preKey = first - TransitionBuilder.KEY_SPACING / 2 + 1;
        long postKey = last + 1;

        Map<String, String> pre = notifyMeta("pre", phase, common);
        Map<String, String> post = notifyMeta("post", phase, common);
        int preStart = graph.add(cloneId, "pre_notify_" + phase.task, null, true, typeOnly(pre), preKey++);
        List<Integer> preNotifies = new ArrayList<>();
        List<Inst> postRecipients = new ArrayList<>();
        List<String> postNodes = new ArrayList<>();
        for (Inst i : instances) {
            for (Recipient r : recipients(i, phase, fenced)) {
                if (r.pre()) {
                    preNotifies.add(graph.add(i.id, "notify", r.node(), false, pre, preKey++));
                } else {
                    postRecipients.add(i);
                    postNodes.add(r.node());
                }
            }
        }
        int preDone = graph.add(cloneId, "confirmed-pre_notify_" + phase.task, null, true, typeOnly(pre), preKey++);
        int cloneAction = graph.add(cloneId, phase.task, null, true, Map.of(), preKey);
        int cloneDone = graph.add(cloneId, phase.done, null, true, Map.of(), postKey++);
        int postStart = graph.add(cloneId, "post_notify_" + phase.done, null, true, typeOnly(post), postKey++);
        List<Integer> postNotifies = new ArrayList<>();
        for (int k = 0; k < postRecipients.size(); k++) {
            postNotifies.add(graph.add(postRecipients.get(k).id, "notify", postNodes.get(k), false, post, postKey++));
        }
        int postDone = graph.add(cloneId, "confirmed-post_notify_" + phase.done, null, true, typeOnly(post), postKey);

        for (int n : preNotifies) {
            graph.order(preStart, n);
            graph.order(n, preDone);
        }
        graph.order(preStart, preDone);
        graph.order(preDone, cloneAction);
        for (int a : acts) {
            graph.order(cloneAction, a);
            graph.order(a, cloneDone);
        }
        graph.order(cloneDone, postStart);
        graph.order(preDone, postStart);
        for (int n : postNotifies) {
            graph.order(postStart, n);
            graph.order(n, postDone);
        }
        graph.order(postStart, postDone);
        // The recurring monitors of a notified instance are set up once the notifications are done.
        for (Inst i : new LinkedHashSet<>(postRecipients)) {
            for (Transition.Action a : List.copyOf(graph.actions())) {
                if (a.intervalMs() > 0 && i.id.equals(a.resource())) graph.order(postDone, a.id());
            }
        }
        return new Bracket(preStart, preDone, postStart, postDone);
    }

    /**
     * Who is told of a phase, and where. Stops and demotes are
     * told to the instances active now, on their current node; the post-notification of a stop only to
     * those that keep running. Starts and promotes are told to the instances active afterwards, on
     * their next node; the pre-notification of a start only to those already running there.
     */
    private List<Recipient> recipients(Inst i, Phase phase, List<String> fenced) {
        List<Recipient> out = new ArrayList<>();
        if (i.orphan || !i.managed()) return out;
        if (phase == Phase.STOP || phase == Phase.DEMOTE) {
            boolean stops = !actionsOf(i, "stop").isEmpty();
            for (String node : i.runningOn) {
                if (fenced.contains(node) || !online(node)) continue; // fencing implies the stop: nothing to tell there
                out.add(new Recipient(true, node));
                if (phase == Phase.DEMOTE || !stops) out.add(new Recipient(false, node));
            }
            return out;
        }
        String next = builder.effectiveNext(i);
        if (next == null || builder.effectiveNextRole(i) == Role.STOPPED || !online(next)) return out;
        if (phase != Phase.START || actionsOf(i, "start").isEmpty()) out.add(new Recipient(true, next));
        out.add(new Recipient(false, next));
        return out;
    }

    private boolean online(String node) {
        NodeInfo n = s.nodes().get(node);
        return n != null && n.online && !n.unclean;
    }

    private List<Integer> actionsOf(Inst i, String task) {
        List<Integer> ids = new ArrayList<>();
        for (Transition.Action a : graph.actions()) {
            if (a.intervalMs() == 0 && i.id.equals(a.resource()) && task.equals(a.task())) ids.add(a.id());
        }
        return ids;
    }

    // ------------------------------------------------------------------ the data agents are given

    /** The lists every notification of this clone carries, the same in every phase, as Pacemaker builds them. */
    private Map<String, String> commonData(List<Inst> instances, Map<Phase, List<Integer>> phaseActions) {
        Map<String, String> data = new LinkedHashMap<>();
        for (Phase p : List.of(Phase.START, Phase.STOP, Phase.PROMOTE, Phase.DEMOTE)) {
            List<Entry> entries = new ArrayList<>();
            for (int id : phaseActions.get(p)) {
                Transition.Action a = graph.actions().get(id);
                if (a.runnable()) entries.add(new Entry(a.resource(), a.node()));
            }
            putList(data, "notify_" + p.task, entries);
        }
        List<Entry> active = new ArrayList<>();
        List<Entry> promoted = new ArrayList<>();
        List<Entry> unpromoted = new ArrayList<>();
        List<Entry> inactive = new ArrayList<>();
        for (Inst i : instances) {
            Entry e = new Entry(i.id, i.current());
            if (i.current() == null || i.role == Role.STOPPED) {
                inactive.add(e);
                continue;
            }
            active.add(e);
            if (i.role == Role.PROMOTED) promoted.add(e);
            if (i.role == Role.UNPROMOTED) unpromoted.add(e);
        }
        putList(data, "notify_active", active);
        putList(data, "notify_promoted", promoted);
        putList(data, "notify_unpromoted", unpromoted);
        // The names agents written before Pacemaker 2.1 read.
        data.put("notify_master_resource", data.get("notify_promoted_resource"));
        data.put("notify_master_uname", data.get("notify_promoted_uname"));
        data.put("notify_slave_resource", data.get("notify_unpromoted_resource"));
        data.put("notify_slave_uname", data.get("notify_unpromoted_uname"));
        data.put("notify_inactive_resource", join(sorted(inactive).stream().map(Entry::resource).toList()));
        data.put("notify_all_uname", join(List.copyOf(new TreeSet<>(s.nodes().keySet()))));
        return data;
    }

    /**
     * {@code name_resource} and {@code name_uname}: sorted by instance then node, each instance once,
     * as Pacemaker lists them.
     */
    private static void putList(Map<String, String> data, String name, List<Entry> entries) {
        List<String> resources = new ArrayList<>();
        List<String> nodes = new ArrayList<>();
        for (Entry e : sorted(entries)) {
            if (!resources.isEmpty() && resources.get(resources.size() - 1).equals(e.resource())) continue;
            resources.add(e.resource());
            nodes.add(e.node());
        }
        data.put(name + "_resource", join(resources));
        data.put(name + "_uname", join(nodes));
    }

    private static List<Entry> sorted(List<Entry> entries) {
        List<Entry> copy = new ArrayList<>(entries);
        copy.sort(Comparator.comparing(Entry::resource)
                .thenComparing(Entry::node, Comparator.nullsLast(Comparator.naturalOrder())));
        return copy;
    }

    /** Space-separated; Pacemaker passes a single space for an empty list. */
    private static String join(List<String> words) {
        return words.isEmpty() ? " " : String.join(" ", words);
    }

    private static Map<String, String> notifyMeta(String type, Phase phase, Map<String, String> common) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("notify_type", type);
        meta.put("notify_operation", phase.task);
        meta.putAll(common);
        return meta;
    }

    /** The bracketing pseudo actions carry only the type and operation. */
    private static Map<String, String> typeOnly(Map<String, String> meta) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("notify_type", meta.get("notify_type"));
        out.put("notify_operation", meta.get("notify_operation"));
        return out;
    }
}
