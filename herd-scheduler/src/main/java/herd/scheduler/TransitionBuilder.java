package herd.scheduler;

import herd.scheduler.Scheduler.Inst;
import herd.scheduler.Scheduler.NodeInfo;
import herd.scheduler.Scheduler.Unit;
import herd.scheduler.model.Operation;
import herd.scheduler.model.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the scheduler's decisions (current and next node and role of every instance) into the
 * summary of changes and the action graph, with Pacemaker's vocabulary for each kind of change.
 */
final class TransitionBuilder implements Notifications.Graph {
    /**
     * Room between two consecutive actions' sort keys: actions added later (clone notifications) take
     * keys in between, so that they are listed next to the actions they bracket.
     */
    static final long KEY_SPACING = 1_000_000;

    private final Scheduler s;
    private final List<Transition.Change> changes = new ArrayList<>();
    private List<Transition.Action> actions = new ArrayList<>();
    /** Per action id, where it goes in execution order, among the actions it is not ordered with. */
    private final List<Long> sortKeys = new ArrayList<>();
    private List<int[]> orderings = new ArrayList<>();
    private final List<Transition.Placement> revised = new ArrayList<>();

    private TransitionBuilder(Scheduler s) {
        this.s = s;
    }

    static Transition build(Scheduler s) {
        return new TransitionBuilder(s).run();
    }

    private Transition run() {
        List<String> fenced = new ArrayList<>();
        for (NodeInfo n : s.nodes().values()) {
            if (n.unclean && canFence(n)) {
                fenced.add(n.name);
                changes.add(new Transition.Change("Fence (reboot)", n.name, null, n.fenceReason));
            }
        }
        List<Inst> all = s.allInstances();
        for (Inst i : all) {
            if (blockedByUnfenceableNode(i)) {
                i.next = i.current();
                i.nextRole = i.role;
                continue;
            }
            summarize(i);
        }
        buildActions(all, fenced);
        addGroupOrderings(all);
        addConstraintOrderings(all);
        Notifications.add(this, this, s, all, fenced);
        putInExecutionOrder();
        for (Inst i : all) {
            revised.add(new Transition.Placement(i.id, parentId(i), i.def.agent(), List.copyOf(i.runningOn),
                    i.role.text(), effectiveNext(i), effectiveNextRole(i).text(), i.failed(), i.managed()));
        }
        return new Transition(List.copyOf(changes), List.copyOf(actions), List.copyOf(orderings),
                copy(s.allocationScores()), java.util.Collections.unmodifiableMap(new LinkedHashMap<>(s.promotionScores())),
                List.copyOf(revised));
    }

    private static Map<String, Map<String, Integer>> copy(Map<String, Map<String, Integer>> m) {
        Map<String, Map<String, Integer>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, java.util.Collections.unmodifiableMap(new LinkedHashMap<>(v))));
        return java.util.Collections.unmodifiableMap(out);
    }

    private static String parentId(Inst i) {
        if (i.unit.clone != null) return i.unit.clone.def.id();
        if (!i.unit.id.equals(i.id)) return i.unit.id;
        return null;
    }

    boolean canFence(NodeInfo n) {
        if (!s.fencingEnabled()) return false;
        if (s.haveQuorum()) return true;
        if ("ignore".equalsIgnoreCase(s.config().property("no-quorum-policy", "stop"))) return true;
        return n.online;
    }

    private boolean blockedByUnfenceableNode(Inst i) {
        for (String node : i.runningOn) {
            NodeInfo n = s.nodes().get(node);
            if (n != null && n.unclean && !canFence(n)) return true;
        }
        return false;
    }

    /** Is nothing done to this instance (unmanaged, or blocked where it runs)? */
    private boolean frozen(Inst i) {
        if (!i.managed()) return true;
        String cur = i.current();
        NodeInfo where = cur == null ? null : s.nodes().get(cur);
        if (where != null && where.maintenance) return true; // nothing is done on a node in maintenance
        if (cur == null || !i.blockedOn.contains(cur)) return false;
        NodeInfo n = s.nodes().get(cur);
        return !(n != null && n.unclean && canFence(n)); // fencing the node ends the block
    }

    String effectiveNext(Inst i) {
        if (frozen(i)) return i.current();
        if (!i.startRunnable) return null;
        return i.next;
    }

    Role effectiveNextRole(Inst i) {
        if (frozen(i)) return i.role;
        if (effectiveNext(i) == null) return Role.STOPPED;
        return i.nextRole;
    }

    private boolean migrates(Inst i) {
        if (!Scheduler.isTrue(i.meta.get("allow-migrate"))) return false;
        if (i.unit.clone != null || i.forcedRestart) return false;
        String cur = i.current();
        return cur != null && i.next != null && !cur.equals(i.next) && !i.failed() && i.startRunnable
                && i.runningOn.size() == 1;
    }

    private void summarize(Inst i) {
        if (frozen(i)) return;
        NodeInfo cn = i.current() == null ? null : s.nodes().get(i.current());
        if (cn != null && cn.unclean && canFence(cn)) i.failedOn.clear(); // fencing clears any failure there
        String current = i.current();
        String next = i.next;
        if (current == null && next == null) return;
        Role role = current == null ? Role.STOPPED : i.role;
        Role nextRole = next == null ? Role.STOPPED : i.nextRole;
        boolean moving = current != null && next != null && !current.equals(next);
        boolean startNeeded = Scheduler.startRequired(i) || (next != null && !i.startRunnable
                && (current == null || !current.equals(next) || i.failed() || i.forcedRestart));
        boolean needRole = role.compareTo(Role.STARTED) > 0 || nextRole.compareTo(Role.UNPROMOTED) > 0;
        String stopReason = next == null ? (i.stopReason != null ? i.stopReason : "node availability") : i.stopReason;

        if (role == nextRole && next != null) {
            if (!i.startRunnable) {
                String reason = i.startReason;
                add("Stop", i, details(i, role, nextRole, current, null, needRole), reason == null ? null : "due to " + reason);
                return;
            }
            if (migrates(i)) {
                add("Migrate", i, details(i, role, nextRole, current, next, needRole), null);
            } else if (!startNeeded) {
                return;
            } else if (moving) {
                add(i.failed() ? "Recover" : "Move", i, details(i, role, nextRole, current, next, needRole), null);
            } else if (i.failed()) {
                add("Recover", i, details(i, role, nextRole, current, null, needRole), null);
            } else {
                add("Restart", i, details(i, role, nextRole, current, next, needRole),
                        i.restartReason == null ? null : "due to " + i.restartReason);
            }
            return;
        }
        if (current != null && (nextRole == Role.STOPPED || !i.startRunnable)) {
            String reason = next == null ? stopReason : (i.startReason != null ? i.startReason : stopReason);
            for (String node : i.runningOn) {
                add("Stop", i, details(i, i.roleOn.getOrDefault(node, role), Role.STOPPED, node, null, needRole),
                        reason == null ? null : "due to " + reason);
            }
            return;
        }
        if (current != null && i.failed()) {
            add("Recover", i, details(i, role, nextRole, current, next, needRole), null);
        } else if (moving) {
            add("Move", i, details(i, role, nextRole, current, next, needRole), null);
        } else if (current != null && i.forcedRestart) {
            add("Restart", i, details(i, role, nextRole, current, next, needRole),
                    i.restartReason == null ? null : "due to " + i.restartReason);
        } else if (role == Role.PROMOTED) {
            add("Demote", i, details(i, role, nextRole, current, next, needRole), null);
        } else if (nextRole == Role.PROMOTED) {
            add("Promote", i, details(i, role, nextRole, current, next, needRole), blockedReason(i));
        } else if (role == Role.STOPPED && nextRole.compareTo(Role.STOPPED) > 0) {
            add("Start", i, details(i, role, nextRole, current, next, needRole), blockedReason(i));
        }
    }

    private static String blockedReason(Inst i) {
        if (i.startRunnable) return null;
        return i.startReason == null ? "blocked" : "due to " + i.startReason + " (blocked)";
    }

    private void add(String kind, Inst i, String details, String reason) {
        changes.add(new Transition.Change(kind, i.id, details, reason));
    }

    /** The text inside the parentheses, exactly as Pacemaker words each kind of change. */
    private static String details(Inst i, Role role, Role nextRole, String origin, String destination, boolean needRole) {
        boolean sameHost = origin == null || destination == null || origin.equals(destination);
        boolean sameRole = role == nextRole;
        if (needRole && origin == null) return role.text() + " -> " + nextRole.text() + " " + destination;
        if (origin == null) return destination;
        if (needRole && destination == null) return role.text() + " " + origin;
        if (destination == null) return origin;
        if (needRole && sameRole && sameHost) return role.text() + " " + origin;
        if (sameRole && sameHost) return origin;
        if (needRole && sameRole) return origin + " -> " + destination + " " + role.text();
        if (sameRole) return origin + " -> " + destination;
        if (sameHost) return role.text() + " -> " + nextRole.text() + " " + origin;
        return role.text() + " " + origin + " -> " + nextRole.text() + " " + destination;
    }

    // ------------------------------------------------------------------ actions

    private int action(String rsc, String task, long interval, String node, boolean pseudo, boolean runnable, String reason) {
        int id = actions.size();
        actions.add(new Transition.Action(id, rsc, task, interval, node, pseudo, runnable, reason));
        sortKeys.add(id * KEY_SPACING + KEY_SPACING / 2);
        return id;
    }

    @Override
    public List<Transition.Action> actions() {
        return actions;
    }

    @Override
    public long sortKey(int id) {
        return sortKeys.get(id);
    }

    @Override
    public int add(String resource, String task, String node, boolean pseudo, Map<String, String> meta, long sortKey) {
        int id = actions.size();
        actions.add(new Transition.Action(id, resource, task, 0, node, pseudo, true, null, meta));
        sortKeys.add(sortKey);
        return id;
    }

    @Override
    public void order(int before, int after) {
        orderings.add(new int[] {before, after});
    }

    /**
     * Lists the actions in an order that respects every ordering (executors and the coordinator walk
     * the list front to back), otherwise by sort key; the ids are renumbered to the new positions.
     * Actions caught in an ordering cycle keep their key order at the end.
     */
    private void putInExecutionOrder() {
        int n = actions.size();
        List<List<Integer>> successors = new ArrayList<>();
        for (int k = 0; k < n; k++) successors.add(new ArrayList<>());
        int[] unmetPredecessors = new int[n];
        for (int[] o : orderings) {
            successors.get(o[0]).add(o[1]);
            unmetPredecessors[o[1]]++;
        }
        java.util.Comparator<Integer> byKey = java.util.Comparator.comparingLong(sortKeys::get);
        java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>(byKey.thenComparingInt(id -> id));
        for (int k = 0; k < n; k++) if (unmetPredecessors[k] == 0) ready.add(k);
        List<Integer> order = new ArrayList<>();
        boolean[] placed = new boolean[n];
        while (!ready.isEmpty()) {
            int id = ready.poll();
            order.add(id);
            placed[id] = true;
            for (int next : successors.get(id)) if (--unmetPredecessors[next] == 0) ready.add(next);
        }
        List<Integer> cyclic = new ArrayList<>();
        for (int k = 0; k < n; k++) if (!placed[k]) cyclic.add(k);
        cyclic.sort(byKey.thenComparingInt(id -> id));
        order.addAll(cyclic);
        int[] newId = new int[n];
        List<Transition.Action> sorted = new ArrayList<>();
        for (int pos = 0; pos < n; pos++) {
            newId[order.get(pos)] = pos;
            sorted.add(actions.get(order.get(pos)).withId(pos));
        }
        List<int[]> renumbered = new ArrayList<>();
        for (int[] o : orderings) renumbered.add(new int[] {newId[o[0]], newId[o[1]]});
        actions = sorted;
        orderings = renumbered;
    }

    /**
     * Emits the graph in a valid execution order: fencing, probes, demotes, stops (dependents first),
     * starts (in placement order), promotes, then recurring monitors.
     */
    private void buildActions(List<Inst> all, List<String> fenced) {
        List<Integer> fences = new ArrayList<>();
        for (String n : fenced) fences.add(action(null, "stonith", 0, n, false, true, "reboot"));
        // Probes: every online node that has no record of a resource checks whether it runs there.
        for (Inst i : all) {
            if (i.orphan || !i.managed()) continue;
            for (NodeInfo n : s.nodes().values()) {
                if (!n.online || n.unclean || n.pending) continue;
                if (!hasHistory(i, n.name)) action(i.id, "monitor", 0, n.name, false, true, "probe");
            }
        }
        List<Inst> reversed = new ArrayList<>(all);
        java.util.Collections.reverse(reversed);
        Map<Inst, Integer> stops = new LinkedHashMap<>();
        for (Inst i : reversed) {
            if (frozen(i) || i.current() == null) continue;
            boolean stop = Scheduler.stopRequired(i) || (i.next == null);
            if (i.role == Role.PROMOTED && effectiveNextRole(i) != Role.PROMOTED && !migrates(i)) {
                action(i.id, "demote", 0, i.current(), isOnFencedNode(i, fenced), true, null);
            }
            if (stop && !migrates(i)) {
                for (String node : i.runningOn) {
                    int id = action(i.id, "stop", 0, node, fenced.contains(node), true, null);
                    stops.put(i, id);
                    for (int f : fences) if (fenced.contains(node)) orderings.add(new int[] {f, id});
                }
            }
        }
        for (Inst i : all) {
            if (frozen(i) || effectiveNext(i) == null) continue;
            if (migrates(i)) {
                int a = action(i.id, "migrate_to", 0, i.current(), false, true, null);
                int b = action(i.id, "migrate_from", 0, i.next, false, true, null);
                orderings.add(new int[] {a, b});
                continue;
            }
            if (Scheduler.startRequired(i)) {
                int id = action(i.id, "start", 0, i.next, false, true, null);
                Integer stop = stops.get(i);
                if (stop != null) orderings.add(new int[] {stop, id});
            }
        }
        for (Inst i : all) {
            if (frozen(i) || effectiveNext(i) == null) continue;
            if (effectiveNextRole(i) == Role.PROMOTED && (i.role != Role.PROMOTED || Scheduler.startRequired(i))) {
                action(i.id, "promote", 0, i.next, false, true, null);
            }
        }
        for (Inst i : all) {
            if (frozen(i) || effectiveNext(i) == null) continue;
            boolean changed = Scheduler.startRequired(i) || effectiveNextRole(i) != i.role || migrates(i);
            if (!changed) continue;
            for (Operation o : i.def.operations()) {
                if (!o.name().equals("monitor") || o.intervalMs() == 0 || !o.enabled()) continue;
                Role r = effectiveNextRole(i);
                if (o.role() != null && o.role() != r && !(o.role() == Role.STARTED && r == Role.UNPROMOTED)) continue;
                action(i.id, "monitor", o.intervalMs(), i.next, false, true, null);
            }
        }
    }

    // ------------------------------------------------------------------ orderings between resources

    /** The action ids of one instance's task (e.g. every "start" of "web"). */
    private List<Integer> actionsOf(Inst i, String task) {
        List<Integer> ids = new ArrayList<>();
        for (Transition.Action a : actions) {
            if (!a.pseudo() && a.intervalMs() == 0 && i.id.equals(a.resource()) && task.equals(a.task())) ids.add(a.id());
        }
        return ids;
    }

    private void order(List<Integer> before, List<Integer> after) {
        for (int b : before) {
            for (int a : after) {
                if (b != a) orderings.add(new int[] {b, a});
            }
        }
    }

    /** A group starts its members in order and stops them in reverse, as Pacemaker does. */
    private void addGroupOrderings(List<Inst> all) {
        java.util.Set<Scheduler.Unit> seen = new java.util.LinkedHashSet<>();
        for (Inst i : all) seen.add(i.unit);
        for (Scheduler.Unit unit : seen) {
            List<Inst> members = unit.members;
            for (int k = 0; k + 1 < members.size(); k++) {
                Inst first = members.get(k);
                Inst then = members.get(k + 1);
                order(actionsOf(first, "start"), actionsOf(then, "start"));
                order(actionsOf(first, "promote"), actionsOf(then, "promote"));
                order(actionsOf(then, "stop"), actionsOf(first, "stop"));
                order(actionsOf(then, "demote"), actionsOf(first, "demote"));
            }
        }
    }

    /**
     * "order first then": the first resource's action before the then resource's, and with a
     * symmetrical order the reverse actions in reverse (stop then before stop first).
     */
    private void addConstraintOrderings(List<Inst> all) {
        for (herd.scheduler.model.Order o : s.config().orders()) {
            if ("Serialize".equalsIgnoreCase(o.kind())) continue;
            String firstAction = o.firstAction() == null || o.firstAction().isBlank() ? "start" : o.firstAction();
            String thenAction = o.thenAction() == null || o.thenAction().isBlank() ? firstAction : o.thenAction();
            List<Inst> firsts = instancesOf(all, o.first());
            List<Inst> thens = instancesOf(all, o.then());
            for (Inst f : firsts) {
                for (Inst t : thens) {
                    order(actionsOf(f, firstAction), actionsOf(t, thenAction));
                    String undoFirst = inverse(firstAction);
                    String undoThen = inverse(thenAction);
                    if (o.symmetrical() && undoFirst != null && undoThen != null) {
                        order(actionsOf(t, undoThen), actionsOf(f, undoFirst));
                    }
                }
            }
        }
    }

    /** The instances a configured id names: a primitive, every member of a group, every copy of a clone. */
    private static List<Inst> instancesOf(List<Inst> all, String id) {
        List<Inst> found = new ArrayList<>();
        for (Inst i : all) {
            boolean clone = i.unit.clone != null && i.unit.clone.def.id().equals(id);
            if (i.def.id().equals(id) || i.unit.configId.equals(id) || clone) found.add(i);
        }
        return found;
    }

    private static String inverse(String action) {
        return switch (action) {
            case "start" -> "stop";
            case "stop" -> "start";
            case "promote" -> "demote";
            case "demote" -> "promote";
            default -> null;
        };
    }

    private static boolean isOnFencedNode(Inst i, List<String> fenced) {
        return fenced.contains(i.current());
    }

    /** Has the node a record of this resource? For an anonymous clone, a record of any of its copies counts. */
    private boolean hasHistory(Inst i, String node) {
        if (i.runningOn.contains(node) || i.historyOn.contains(node)) return true;
        if (i.unit.clone == null || i.unit.clone.unique()) return false;
        for (Unit u : i.unit.clone.instances) {
            for (Inst other : u.members) {
                if (other.def == i.def && (other.historyOn.contains(node) || other.runningOn.contains(node))) return true;
            }
        }
        return false;
    }
}
