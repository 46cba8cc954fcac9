package herd.scheduler;

import herd.scheduler.model.Clone;
import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Colocation;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Group;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.NodeState;
import herd.scheduler.model.OpRecord;
import herd.scheduler.model.Operation;
import herd.scheduler.model.Order;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.scheduler.model.ResourceHistory;
import herd.scheduler.model.Role;
import herd.scheduler.model.Rule;
import herd.scheduler.model.Score;
import herd.scheduler.model.TicketConstraint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static herd.scheduler.model.Score.INFINITY;

/**
 * The scheduler: {@code schedule(state, now)} decides where every resource should run and in which
 * order the actions happen, following Pacemaker's semantics. Pure and deterministic: the same state
 * and time give the same transition, byte for byte (every map iterated is insertion-ordered).
 */
public final class Scheduler {

    /** Schedules the cluster at {@code nowSec} (seconds since the epoch, used for date rules and failure expiry). */
    public static Transition schedule(ClusterState state, long nowSec) {
        return new Scheduler(state, nowSec).run();
    }

    // ------------------------------------------------------------------ working state

    /** A node as the scheduler sees it. */
    static final class NodeInfo {
        final String name;
        final Map<String, String> attrs = new LinkedHashMap<>();
        final Map<String, Integer> capacity = new LinkedHashMap<>();
        final Map<String, Integer> used = new LinkedHashMap<>();

        /** Does this node still have room for the given utilization (every attribute)? */
        boolean fits(Map<String, Integer> need) {
            for (Map.Entry<String, Integer> e : need.entrySet()) {
                if (capacity.getOrDefault(e.getKey(), 0) - used.getOrDefault(e.getKey(), 0) < e.getValue()) return false;
            }
            return true;
        }

        /** Free capacity summed over attributes, for the balanced strategy's tie-break. */
        int free() {
            int total = 0;
            for (Map.Entry<String, Integer> e : capacity.entrySet()) total += e.getValue() - used.getOrDefault(e.getKey(), 0);
            return total;
        }
        boolean online;
        boolean unclean;
        boolean standby;
        boolean maintenance;
        boolean shutdown;
        boolean pending;
        boolean remote;
        boolean seen;
        String fenceReason;
        int assigned;

        NodeInfo(String name) {
            this.name = name;
        }

        private Boolean failCounts;

        /** Does any fail-count attribute exist on this node? (Saves scanning attributes per resource.) */
        boolean hasFailCounts() {
            if (failCounts == null) {
                failCounts = false;
                for (String k : attrs.keySet()) if (k.startsWith("fail-count-")) failCounts = true;
            }
            return failCounts;
        }

        boolean canRun() {
            return online && !unclean && !standby && !shutdown && !pending && !maintenance;
        }
    }

    /** One primitive instance: a standalone primitive, a group member, or one copy inside a clone. */
    static final class Inst {
        final String id;
        final Primitive def;
        final Unit unit;
        final Map<String, String> meta;
        final List<String> runningOn = new ArrayList<>();
        final Map<String, Role> roleOn = new LinkedHashMap<>();
        final Set<String> failedOn = new LinkedHashSet<>();
        final Set<String> bannedOn = new LinkedHashSet<>();
        final Set<String> blockedOn = new LinkedHashSet<>();
        final Set<String> stopOnFail = new LinkedHashSet<>();
        final Set<String> pendingOn = new LinkedHashSet<>();
        final Set<String> historyOn = new LinkedHashSet<>();
        Role role = Role.STOPPED;
        boolean orphan;
        boolean bannedEverywhere;
        // decisions
        String next;
        Role nextRole = Role.STOPPED;
        boolean startRunnable = true;
        String startReason;
        String stopReason;
        boolean forcedRestart;
        String restartReason;

        Inst(String id, Primitive def, Unit unit, Map<String, String> meta) {
            this.id = id;
            this.def = def;
            this.unit = unit;
            this.meta = meta;
        }

        boolean failed() {
            return !failedOn.isEmpty();
        }

        String current() {
            return runningOn.isEmpty() ? null : runningOn.get(0);
        }

        boolean managed() {
            return !"false".equalsIgnoreCase(meta.getOrDefault("is-managed", "true"))
                    && !"true".equalsIgnoreCase(meta.getOrDefault("maintenance", "false"));
        }
    }

    /** What is placed as one: a primitive, a group (members in order), or one instance of a clone. */
    static final class Unit {
        final String id;
        final String configId;
        final List<Inst> members = new ArrayList<>();
        final CloneRt clone;
        final int index;
        final Map<String, String> meta;
        String next;
        Map<String, Integer> scores = new LinkedHashMap<>();
        boolean allocated;

        Unit(String id, String configId, CloneRt clone, int index, Map<String, String> meta) {
            this.id = id;
            this.configId = configId;
            this.clone = clone;
            this.index = index;
            this.meta = meta;
        }

        String current() {
            for (Inst i : members) if (i.current() != null) return i.current();
            return null;
        }

        boolean active() {
            return current() != null;
        }
    }

    /** A clone at run time: its instances and limits. */
    static final class CloneRt {
        final Clone def;
        final List<Unit> instances = new ArrayList<>();
        final Map<String, String> meta;
        int max;
        int nodeMax;
        int promotedMax;
        int promotedNodeMax;
        boolean allocated;
        Map<String, Integer> scores = new LinkedHashMap<>();

        CloneRt(Clone def, Map<String, String> meta) {
            this.def = def;
            this.meta = meta;
        }

        boolean unique() {
            return isTrue(meta.get("globally-unique"));
        }

        String childId() {
            return def.child().id();
        }
    }

    /** A top-level resource: exactly one of unit or clone is set. */
    record Top(String id, Unit unit, CloneRt cloneRt, int priority, int position) {}

    private final ClusterState state;
    private final Configuration config;
    private final long nowSec;
    private final Map<String, NodeInfo> nodes = new LinkedHashMap<>();
    private final List<Top> tops = new ArrayList<>();
    private final Map<String, Top> topById = new HashMap<>();
    /** Any configured id (primitive, member, group, clone, child) to its top-level resource. */
    private final Map<String, Top> topOf = new HashMap<>();
    private final Map<String, Inst> instById = new LinkedHashMap<>();
    private final List<Inst> orphans = new ArrayList<>();
    private final Map<String, Map<String, Integer>> allocationScores = new LinkedHashMap<>();
    private final Map<String, Integer> promotionScores = new LinkedHashMap<>();
    private final boolean fencingEnabled;
    private final String noQuorumPolicy;
    private final boolean quorumBlocksStart;
    private final boolean symmetric;
    private final boolean stopAll;

    private Scheduler(ClusterState state, long nowSec) {
        this.state = state;
        this.config = state.config();
        this.nowSec = nowSec;
        String fencing = config.property("fencing-enabled", config.property("stonith-enabled", "true"));
        this.fencingEnabled = isTrue(fencing);
        this.noQuorumPolicy = config.property("no-quorum-policy", "stop").toLowerCase(Locale.ROOT);
        this.quorumBlocksStart = !state.haveQuorum() && !noQuorumPolicy.equals("ignore");
        this.symmetric = isTrue(config.property("symmetric-cluster", "true"));
        this.stopAll = isTrue(config.property("stop-all-resources", "false"));
    }

    public static boolean isTrue(String s) {
        if (s == null) return false;
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "y", "1" -> true;
            default -> false;
        };
    }

    private Transition run() {
        buildNodes();
        buildResources();
        unpackHistory();
        applyFailureBans();
        allocateAll();
        applyQuorumAndTickets();
        applyOrderings();
        return TransitionBuilder.build(this);
    }

    // ------------------------------------------------------------------ nodes

    private void buildNodes() {
        Map<String, NodeState> stateByName = new HashMap<>();
        for (NodeState ns : state.nodeStates()) {
            stateByName.put(ns.uname(), ns);
            stateByName.putIfAbsent(ns.id(), ns);
        }
        boolean startupFencing = isTrue(config.property("startup-fencing", "true"));
        for (NodeConfig nc : config.nodes()) {
            NodeInfo n = new NodeInfo(nc.uname());
            n.remote = "remote".equals(nc.type());
            n.attrs.putAll(nc.attributes());
            nc.utilization().forEach((k, v) -> n.capacity.put(k, Score.parseOr(v, 0)));
            NodeState ns = stateByName.get(nc.uname());
            if (ns == null) ns = stateByName.get(nc.id());
            if (ns == null) {
                n.online = false;
                if (fencingEnabled && startupFencing && !n.remote) {
                    n.unclean = true;
                    n.fenceReason = "node is unclean";
                }
            } else {
                n.seen = true;
                n.attrs.putAll(ns.transientAttributes());
                determineOnline(n, ns);
            }
            n.attrs.put("#uname", n.name);
            n.attrs.put("#id", nc.id());
            n.attrs.put("#kind", n.remote ? "remote" : "cluster");
            n.standby |= isTrue(n.attrs.get("standby"));
            n.maintenance = isTrue(n.attrs.get("maintenance"));
            String sd = n.attrs.get("shutdown");
            n.shutdown = sd != null && !sd.equals("0") && !sd.isEmpty();
            nodes.put(n.name, n);
        }
        if (isTrue(config.property("maintenance-mode", "false"))) {
            for (NodeInfo n : nodes.values()) n.maintenance = true;
        }
    }

    private void determineOnline(NodeInfo n, NodeState ns) {
        boolean member = ns.inCluster();
        boolean peerOnline = "online".equals(ns.peer());
        String join = ns.join() == null ? "" : ns.join();
        String expected = ns.expected();
        if (n.remote) {
            n.online = member;
            return;
        }
        if (!fencingEnabled) {
            n.online = member && peerOnline && join.equals("member");
            n.pending = member && peerOnline && !join.equals("member");
            return;
        }
        if (join.equals("nack")) {
            fence(n, "peer failed Pacemaker membership criteria");
        } else if (ns.terminate()) {
            fence(n, "fencing was requested");
        } else if (expected == null || expected.isEmpty() || expected.equals("down")) {
            if (member && peerOnline) n.pending = !join.equals("member");
            n.online = member && peerOnline && join.equals("member");
            return;
        } else if (!member) {
            fence(n, "peer is no longer part of the cluster");
        } else if (!peerOnline) {
            fence(n, "peer process is no longer available");
        } else if (join.equals("member")) {
            n.online = true;
        } else if (join.equals("pending") || join.equals("down")) {
            n.online = true;
            n.pending = true;
        } else {
            fence(n, "peer was in an unknown state");
        }
        if (n.unclean) n.online = member && peerOnline && join.equals("member");
    }

    private void fence(NodeInfo n, String reason) {
        if (!n.unclean) {
            n.unclean = true;
            n.fenceReason = reason;
        }
    }

    Map<String, NodeInfo> nodes() {
        return nodes;
    }

    // ------------------------------------------------------------------ resources

    private Map<String, String> metaFor(Map<String, String> own, Map<String, String> inherited) {
        Map<String, String> m = new LinkedHashMap<>(config.resourceDefaults());
        m.putAll(inherited);
        m.putAll(own);
        return m;
    }

    private void buildResources() {
        int position = 0;
        for (Resource r : config.resources()) {
            Map<String, String> meta = metaFor(r.meta(), Map.of());
            int priority = Score.parseOr(meta.get("priority"), 0);
            Top top;
            switch (r) {
                case Primitive p -> {
                    Unit u = new Unit(p.id(), p.id(), null, -1, meta);
                    addInst(u, p, p.id(), meta);
                    top = new Top(p.id(), u, null, priority, position);
                    topOf.put(p.id(), top);
                }
                case Group g -> {
                    Unit u = new Unit(g.id(), g.id(), null, -1, meta);
                    for (Primitive p : g.members()) addInst(u, p, p.id(), metaFor(p.meta(), meta));
                    top = new Top(g.id(), u, null, priority, position);
                    topOf.put(g.id(), top);
                    for (Primitive p : g.members()) topOf.put(p.id(), top);
                }
                case Clone c -> {
                    CloneRt rt = buildClone(c, meta);
                    top = new Top(c.id(), null, rt, priority, position);
                    topOf.put(c.id(), top);
                    topOf.put(c.child().id(), top);
                    if (c.child() instanceof Group g) for (Primitive p : g.members()) topOf.put(p.id(), top);
                }
            }
            tops.add(top);
            topById.put(top.id(), top);
            position++;
        }
    }

    private CloneRt buildClone(Clone c, Map<String, String> meta) {
        CloneRt rt = new CloneRt(c, meta);
        int nodeCount = Math.max(1, nodes.size());
        rt.max = intMeta(meta, nodeCount, "clone-max");
        rt.nodeMax = intMeta(meta, 1, "clone-node-max");
        rt.promotedMax = intMeta(meta, 1, "promoted-max", "master-max");
        rt.promotedNodeMax = intMeta(meta, 1, "promoted-node-max", "master-node-max");
        Map<String, String> childMeta = metaFor(c.child().meta(), meta);
        // A clone instance is sticky to where it runs unless told otherwise (Pacemaker's default of 1).
        if (!childMeta.containsKey("resource-stickiness") && !childMeta.containsKey("default-resource-stickiness")) {
            childMeta.put("resource-stickiness", "1");
        }
        for (int i = 0; i < rt.max; i++) {
            String uid = c.child().id() + ":" + i;
            Unit u = new Unit(uid, c.child().id(), rt, i, childMeta);
            if (c.child() instanceof Primitive p) {
                addInst(u, p, p.id() + ":" + i, childMeta);
            } else if (c.child() instanceof Group g) {
                for (Primitive p : g.members()) addInst(u, p, p.id() + ":" + i, metaFor(p.meta(), childMeta));
            }
            rt.instances.add(u);
        }
        return rt;
    }

    private static int intMeta(Map<String, String> meta, int fallback, String... names) {
        for (String n : names) {
            String v = meta.get(n);
            if (v != null) return Math.max(0, Score.parseOr(v, fallback));
        }
        return fallback;
    }

    private void addInst(Unit u, Primitive p, String id, Map<String, String> meta) {
        Inst i = new Inst(id, p, u, metaFor(p.meta(), meta));
        u.members.add(i);
        instById.put(id, i);
    }

    List<Top> tops() {
        return tops;
    }

    List<Inst> orphans() {
        return orphans;
    }

    Configuration config() {
        return config;
    }

    boolean fencingEnabled() {
        return fencingEnabled;
    }

    boolean haveQuorum() {
        return state.haveQuorum();
    }

    Map<String, Map<String, Integer>> allocationScores() {
        return allocationScores;
    }

    Map<String, Integer> promotionScores() {
        return promotionScores;
    }

    // ------------------------------------------------------------------ history

    private void unpackHistory() {
        for (NodeState ns : state.nodeStates()) {
            NodeInfo n = nodes.get(ns.uname());
            if (n == null) n = nodes.get(ns.id());
            if (n == null) continue;
            // A cleanly stopped node runs nothing, unless it is in maintenance: then what it ran is left alone.
            if (!n.online && !n.unclean && !n.maintenance) continue;
            for (ResourceHistory h : ns.history()) unpackResource(n, h);
        }
    }

    private void unpackResource(NodeInfo n, ResourceHistory h) {
        Inst inst = findInstance(n.name, h.resourceId());
        if (inst == null) {
            inst = orphanFor(h);
        }
        inst.historyOn.add(n.name);
        List<OpRecord> ops = new ArrayList<>(h.ops());
        ops.sort(Comparator.comparingInt(o -> o.callId() < 0 ? Integer.MAX_VALUE : o.callId()));
        Role role = Role.STOPPED;
        boolean failed = false;
        boolean promotable = inst.unit.clone != null && inst.unit.clone.def.promotable();
        Role started = promotable ? Role.UNPROMOTED : Role.STARTED;
        for (OpRecord op : ops) {
            String task = op.operation();
            if (task.equals("notify") || op.opStatus() == 1) continue; // notifications and cancellations
            if (op.callId() < 0 || op.opStatus() == -1) { // pending
                if (task.equals("start") || task.equals("migrate_from") || task.equals("promote") || task.equals("demote")) {
                    role = task.equals("promote") ? Role.PROMOTED : started;
                    inst.pendingOn.add(n.name);
                } else if (task.equals("stop")) {
                    role = started;
                    inst.pendingOn.add(n.name);
                }
                continue;
            }
            int rc = op.rc();
            if (rc == 190) rc = 0; // degraded still counts as running
            if (rc == 191) rc = 8;
            boolean probe = op.isProbe();
            int expected = op.targetRc() >= 0 ? op.targetRc() : (probe ? 7 : 0);
            // Executor status 4 (error) still carries a meaningful exit code; others are failures outright.
            boolean execFailed = op.opStatus() != 0 && op.opStatus() != 1 && op.opStatus() != 4;
            if (!execFailed && (rc == 7) && (probe || expected == 7)) {
                role = Role.STOPPED;
                failed = false;
                continue;
            }
            if (!execFailed && (rc == expected || (probe && (rc == 0 || rc == 8)))) {
                switch (task) {
                    // As in Pacemaker, a successful start, stop, promote or demote clears an earlier failure.
                    case "start", "migrate_from" -> {
                        role = started;
                        failed = false;
                    }
                    case "stop" -> {
                        role = Role.STOPPED;
                        failed = false;
                    }
                    case "promote" -> {
                        role = Role.PROMOTED;
                        failed = false;
                    }
                    case "demote" -> {
                        role = Role.UNPROMOTED;
                        failed = false;
                    }
                    case "migrate_to" -> role = started;
                    case "monitor" -> {
                        if (rc == 8) role = Role.PROMOTED;
                        else if (role == Role.STOPPED || role == Role.UNKNOWN || role == Role.PROMOTED && promotable && rc == 0) {
                            role = started;
                        }
                    }
                    default -> { }
                }
                if (probe) failed = false;
                continue;
            }
            // A failure.
            String onFail = onFailFor(inst, task, op.intervalMs());
            if (probe && rc == 5) {
                inst.bannedOn.add(n.name); // not installed here: a masked failure, it is not running
                role = Role.STOPPED;
                continue;
            }
            if (rc == 4) inst.bannedOn.add(n.name); // insufficient privileges: a hard error on this node
            if (rc == 6) inst.bannedEverywhere = true;
            if (rc == 5) inst.bannedOn.add(n.name);
            if (task.equals("monitor") && rc == 7) {
                // A recurring monitor found it stopped: it must be recovered.
                role = role == Role.STOPPED ? started : role;
            } else if (task.equals("stop")) {
                role = role == Role.STOPPED ? started : role;
                if (fencingEnabled && !"block".equals(onFail) && !"ignore".equals(onFail)) {
                    fence(n, inst.id + " failed there");
                } else {
                    inst.blockedOn.add(n.name);
                }
            } else if (task.equals("start")) {
                role = started;
                if (isTrue(config.property("start-failure-is-fatal", "true"))) inst.bannedOn.add(n.name);
            } else if (task.equals("promote")) {
                role = Role.PROMOTED;
            } else if (task.equals("demote")) {
                // a blocked failed demote is still promoted; otherwise it is recovered as unpromoted
                role = "block".equals(onFail) ? Role.PROMOTED : Role.UNPROMOTED;
            } else if (rc == 9) {
                role = Role.PROMOTED;
            } else if (rc == 8) {
                role = Role.PROMOTED;
            } else if (role == Role.STOPPED) {
                role = started;
            }
            boolean hardError = rc == 4 || rc == 5 || rc == 6 || op.opStatus() >= 5;
            if ("ignore".equals(onFail) && !hardError) continue; // hard errors cannot be ignored
            failed = true;
            if ("block".equals(onFail)) inst.blockedOn.add(n.name);
            if ("stop".equals(onFail)) inst.stopOnFail.add(n.name);
            if ("standby".equals(onFail)) n.standby = true;
            if ("fence".equals(onFail) && fencingEnabled) fence(n, inst.id + " failed there");
        }
        if (role != Role.STOPPED && role != Role.UNKNOWN) {
            if (!inst.runningOn.contains(n.name)) inst.runningOn.add(n.name);
            inst.roleOn.put(n.name, role);
            inst.role = role.compareTo(inst.role) > 0 || inst.role == Role.STOPPED ? role : inst.role;
            if (failed) inst.failedOn.add(n.name);
        }
    }

    private String onFailFor(Inst inst, String task, long intervalMs) {
        for (Operation o : inst.def.operations()) {
            if (o.name().equals(task) && (o.intervalMs() == intervalMs || !task.equals("monitor"))) {
                if (o.onFail() != null) return o.onFail().toLowerCase(Locale.ROOT);
            }
        }
        String d = config.operationDefaults().get("on-fail");
        return d == null ? null : d.toLowerCase(Locale.ROOT);
    }

    /** Maps a history entry's resource id to the instance it describes on this node. */
    private Inst findInstance(String node, String rscId) {
        Inst exact = instById.get(rscId);
        String base = rscId.contains(":") ? rscId.substring(0, rscId.indexOf(':')) : rscId;
        Top top = topOf.get(base);
        if (top == null) return exact;
        if (top.cloneRt() == null) {
            return exact;
        }
        CloneRt rt = top.cloneRt();
        if (rt.unique() && exact != null) return exact;
        // Anonymous clone: an instance already active on this node, else the first one active nowhere.
        int memberIndex = memberIndex(rt, base);
        if (memberIndex < 0) return exact;
        for (Unit u : rt.instances) {
            for (Inst i : u.members) if (i.runningOn.contains(node) || i.pendingOn.contains(node)) return u.members.get(memberIndex);
        }
        for (Unit u : rt.instances) {
            if (u.active()) continue;
            boolean pending = false;
            for (Inst i : u.members) pending |= !i.pendingOn.isEmpty();
            if (pending) continue;
            return u.members.get(memberIndex);
        }
        // More active copies than clone-max: an orphaned instance.
        return null;
    }


    private static int memberIndex(CloneRt rt, String base) {
        if (rt.def.child() instanceof Primitive p) return p.id().equals(base) ? 0 : -1;
        Group g = (Group) rt.def.child();
        for (int k = 0; k < g.members().size(); k++) if (g.members().get(k).id().equals(base)) return k;
        return -1;
    }

    private Inst orphanFor(ResourceHistory h) {
        for (Inst o : orphans) if (o.id.equals(h.resourceId())) return o;
        Primitive p = new Primitive(h.resourceId(), h.agentClass(), h.provider(), h.type(), Map.of(), Map.of(),
                List.of(), Map.of());
        Unit u = new Unit(h.resourceId(), h.resourceId(), null, -1, Map.of());
        Inst i = new Inst(h.resourceId(), p, u, metaFor(Map.of(), Map.of()));
        i.orphan = true;
        u.members.add(i);
        orphans.add(i);
        return i;
    }

    // ------------------------------------------------------------------ failures

    private void applyFailureBans() {
        for (Inst i : instById.values()) {
            int threshold = Score.parseOr(i.meta.get("migration-threshold"), INFINITY);
            long timeout = failureTimeoutSec(i);
            for (NodeInfo n : nodes.values()) {
                int count = failCount(n, i, timeout);
                if (threshold > 0 && count >= threshold) i.bannedOn.add(n.name);
            }
        }
    }

    private long failureTimeoutSec(Inst i) {
        String v = i.meta.get("failure-timeout");
        if (v == null || v.equals("0")) return 0;
        try {
            return herd.scheduler.cib.Durations.parseMillis(v) / 1000;
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    /** Sum of the node's fail-count attributes for this resource, ignoring expired ones. */
    private int failCount(NodeInfo n, Inst i, long timeoutSec) {
        if (!n.hasFailCounts()) return 0;
        String base = i.def.id();
        int total = 0;
        long lastFailure = 0;
        for (Map.Entry<String, String> e : n.attrs.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("last-failure-")) {
                String r = stripOp(k.substring("last-failure-".length()));
                if (r.equals(base) || r.equals(i.id)) lastFailure = Math.max(lastFailure, Score.parseOr(e.getValue(), 0));
            }
        }
        if (timeoutSec > 0 && lastFailure > 0 && lastFailure + timeoutSec <= nowSec) return 0;
        for (Map.Entry<String, String> e : n.attrs.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith("fail-count-")) continue;
            String r = stripOp(k.substring("fail-count-".length()));
            String rBase = r.contains(":") ? r.substring(0, r.indexOf(':')) : r;
            boolean mine = r.equals(i.id) || (r.equals(base)) || (i.unit.clone != null && !i.unit.clone.unique() && rBase.equals(base));
            if (mine) total = Score.add(total, Score.parseOr(e.getValue(), 0));
        }
        return total;
    }

    private static String stripOp(String s) {
        int hash = s.indexOf('#');
        return hash < 0 ? s : s.substring(0, hash);
    }

    // ------------------------------------------------------------------ allocation

    /**
     * Pacemaker's allocation order: higher priority first; with a placement strategy other than
     * "default", then the resource scoring highest where it
     * runs now (so running resources claim their nodes before stopped ones are placed), then the one
     * with the higher score on the first node where they differ, then configuration order.
     */
    private void allocateAll() {
        List<String> nodeOrder = new ArrayList<>(nodes.keySet());
        nodeOrder.sort(Comparator.naturalOrder());
        Map<Top, Integer> currentScore = new HashMap<>();
        Map<Top, Map<String, Integer>> scores = new HashMap<>();
        for (Top t : tops) {
            Map<String, Integer> s = t.unit() != null ? unitScores(t.unit(), baseScores()) : cloneSortScores(t.cloneRt());
            scores.put(t, s);
            String cur = t.unit() != null ? t.unit().current() : firstActiveNode(t.cloneRt());
            currentScore.put(t, cur == null ? -INFINITY : s.getOrDefault(cur, -INFINITY));
        }
        List<Top> order = new ArrayList<>(tops);
        boolean defaultStrategy = "default".equalsIgnoreCase(config.property("placement-strategy", "default"));
        order.sort((a, b) -> {
            if (a.priority() != b.priority()) return Integer.compare(b.priority(), a.priority());
            if (defaultStrategy) return Integer.compare(a.position(), b.position()); // only other strategies sort further
            int ca = currentScore.get(a);
            int cb = currentScore.get(b);
            if (ca != cb) return Integer.compare(cb, ca);
            for (String n : nodeOrder) {
                int sa = scores.get(a).getOrDefault(n, -INFINITY);
                int sb = scores.get(b).getOrDefault(n, -INFINITY);
                if (sa != sb) return Integer.compare(sb, sa);
            }
            return Integer.compare(a.position(), b.position());
        });
        for (Top t : order) allocate(t, new HashSet<>());
    }

    private static String firstActiveNode(CloneRt rt) {
        for (Unit u : rt.instances) if (u.current() != null) return u.current();
        return null;
    }

    /** A clone's scores for ordering: its own plus the stickiness of its first active instance. */
    private Map<String, Integer> cloneSortScores(CloneRt rt) {
        Map<String, Integer> s = cloneBaseScores(rt);
        for (Unit u : rt.instances) {
            if (u.current() != null) return unitScores(u, s);
        }
        return s;
    }

    private void allocate(Top t, Set<String> inProgress) {
        if (t.unit() != null ? t.unit().allocated : t.cloneRt().allocated) return;
        if (!inProgress.add(t.id())) return; // colocation loop: allocate with what we know
        // Primaries first: a dependent's placement needs theirs.
        for (Colocation c : colocationsOf(t)) {
            if (topOf.get(c.dependent()) == t && topOf.get(c.primary()) != null && topOf.get(c.primary()) != t) {
                if (c.score() == 0) continue;
                allocate(topOf.get(c.primary()), inProgress);
            }
        }
        if (t.unit() != null) {
            allocateUnit(t, t.unit());
        } else {
            allocateClone(t, t.cloneRt());
        }
        inProgress.remove(t.id());
    }

    /** Node scores every placement starts from: symmetric 0 (or not allowed), minus unusable nodes. */
    private Map<String, Integer> baseScores() {
        if (baseScoresCache == null) baseScoresCache = computeBaseScores();
        return new LinkedHashMap<>(baseScoresCache);
    }

    private Map<String, Integer> baseScoresCache;

    private Map<String, Integer> computeBaseScores() {
        Map<String, Integer> s = new LinkedHashMap<>();
        for (NodeInfo n : nodes.values()) {
            if (symmetric) s.put(n.name, 0);
            int health = healthScore(n);
            if (health != 0) merge(s, n.name, health);
        }
        return s;
    }

    /** node-health-strategy: #health-* attributes (red, yellow, green or a number) weigh on every placement. */
    private int healthScore(NodeInfo n) {
        String strategy = config.property("node-health-strategy", "none").toLowerCase(Locale.ROOT);
        if (strategy.equals("none")) return 0;
        int red = strategy.equals("custom") || strategy.equals("progressive")
                ? Score.parseOr(config.property("node-health-red", "-INFINITY"), -INFINITY) : -INFINITY;
        int yellow = strategy.equals("only-green") ? -INFINITY
                : strategy.equals("migrate-on-red") ? 0 : Score.parseOr(config.property("node-health-yellow", "0"), 0);
        int green = strategy.equals("progressive") || strategy.equals("custom")
                ? Score.parseOr(config.property("node-health-green", "0"), 0) : 0;
        int total = 0;
        for (Map.Entry<String, String> e : n.attrs.entrySet()) {
            if (!e.getKey().startsWith("#health")) continue;
            String v = e.getValue().trim().toLowerCase(Locale.ROOT);
            int w = switch (v) {
                case "red" -> red;
                case "yellow" -> yellow;
                case "green" -> green;
                default -> Score.parseOr(v, 0);
            };
            total = Score.add(total, w);
        }
        return total;
    }

    /** Colocations that name a resource inside this top-level resource, indexed once for speed. */
    private List<Colocation> colocationsOf(Top t) {
        if (colocationIndex == null) {
            colocationIndex = new HashMap<>();
            for (Colocation c : config.colocations()) {
                Top d = topOf.get(c.dependent());
                Top p = topOf.get(c.primary());
                if (d != null) colocationIndex.computeIfAbsent(d, k -> new ArrayList<>()).add(c);
                if (p != null && p != d) colocationIndex.computeIfAbsent(p, k -> new ArrayList<>()).add(c);
            }
        }
        return colocationIndex.getOrDefault(t, List.of());
    }

    private Map<Top, List<Colocation>> colocationIndex;
    private Map<String, List<Location>> locationIndex;
    private List<Location> patternLocations;

    /** Location constraints that may apply to a resource id (by name, or by pattern). */
    private List<Location> locationsFor(String rscId) {
        if (locationIndex == null) {
            locationIndex = new HashMap<>();
            patternLocations = new ArrayList<>();
            for (Location l : config.locations()) {
                if (l.resource() != null) locationIndex.computeIfAbsent(l.resource(), k -> new ArrayList<>()).add(l);
                else if (l.resourcePattern() != null) patternLocations.add(l);
            }
        }
        List<Location> direct = locationIndex.getOrDefault(rscId, List.of());
        if (patternLocations.isEmpty()) return direct;
        List<Location> all = new ArrayList<>(direct);
        for (Location l : patternLocations) if (rscId.matches(l.resourcePattern())) all.add(l);
        return all;
    }

    private void addLocations(Map<String, Integer> scores, String rscId, Role roleFilter) {
        for (Location l : locationsFor(rscId)) {
            boolean matches = rscId.equals(l.resource())
                    || (l.resourcePattern() != null && rscId.matches(l.resourcePattern()));
            if (!matches) continue;
            if (roleFilter == null) {
                if (l.role() == Role.PROMOTED || l.role() == Role.UNPROMOTED) continue;
            } else if (l.role() != roleFilter && l.rules().stream().noneMatch(r -> r.role() == roleFilter)) {
                continue; // the role may be on the constraint or on its rules
            }
            applyLocation(scores, l, roleFilter);
        }
    }

    private void applyLocation(Map<String, Integer> scores, Location l, Role roleFilter) {
        if (l.node() != null && l.score() != null) {
            if (nodes.containsKey(l.node())) merge(scores, l.node(), l.score());
            return;
        }
        for (Rule r : l.rules()) {
            if (roleFilter == null && (r.role() == Role.PROMOTED || r.role() == Role.UNPROMOTED)) continue;
            if (roleFilter != null && r.role() != roleFilter && l.role() != roleFilter) continue;
            for (NodeInfo n : nodes.values()) {
                if (!Rules.matches(r, n.attrs, nowSec)) continue;
                int score;
                if (r.scoreAttribute() != null) {
                    String v = n.attrs.get(r.scoreAttribute());
                    if (v == null) continue;
                    score = Score.parseOr(v, 0);
                } else {
                    score = r.score() == null ? 0 : r.score();
                }
                merge(scores, n.name, score);
            }
        }
    }

    private static void merge(Map<String, Integer> scores, String node, int score) {
        Integer old = scores.get(node);
        scores.put(node, old == null ? score : Score.add(old, score));
    }

    private int stickiness(Inst i) {
        String v = i.meta.get("resource-stickiness");
        if (v == null) v = i.meta.get("default-resource-stickiness");
        if (v == null) v = config.property("default-resource-stickiness", "0");
        return Score.parseOr(v, 0);
    }

    /** The scores of one unit on every node, before colocation. */
    private Map<String, Integer> unitScores(Unit u, Map<String, Integer> start) {
        Map<String, Integer> s = new LinkedHashMap<>(start);
        if (u.clone == null) addLocations(s, u.configId, null);
        if (u.members.size() > 1 || (u.clone == null && !u.configId.equals(u.members.get(0).def.id()))) {
            // a group: its members' preferences count for the whole group
            for (Inst m : u.members) {
                Map<String, Integer> ms = new LinkedHashMap<>();
                addLocations(ms, m.def.id(), null);
                for (Map.Entry<String, Integer> e : ms.entrySet()) if (s.containsKey(e.getKey()) || e.getValue() > 0 || !symmetric) merge(s, e.getKey(), e.getValue());
            }
        }
        for (Inst m : u.members) {
            String cur = m.current();
            if (cur != null && m.runningOn.size() == 1 && s.containsKey(cur) && m.managed()) {
                merge(s, cur, stickiness(m));
            }
            for (String b : m.bannedOn) s.put(b, -INFINITY);
            if (m.bannedEverywhere) for (String n : nodes.keySet()) s.put(n, -INFINITY);
        }
        for (Inst m : u.members) if (!m.stopOnFail.isEmpty()) for (String n : nodes.keySet()) s.put(n, -INFINITY);
        String target = u.members.get(0).meta.get("target-role");
        if (stopAll || target != null && Role.parse(target) == Role.STOPPED && u.members.size() == 1) {
            for (String n : nodes.keySet()) s.put(n, -INFINITY);
        }
        return s;
    }

    private void applyColocationsAsDependent(Top t, Map<String, Integer> s, boolean forClone) {
        for (Colocation c : colocationsOf(t)) {
            if (topOf.get(c.dependent()) != t || topOf.get(c.primary()) == null || topOf.get(c.primary()) == t) continue;
            if (c.dependentRole() == Role.PROMOTED || c.dependentRole() == Role.UNPROMOTED) {
                if (forClone) continue; // role-specific: handled when promoting
            }
            if (t.unit() != null && t.unit().members.size() > 1 && !c.dependent().equals(t.id())
                    && !c.dependent().equals(t.unit().members.get(0).def.id())) {
                // an inner group member with an optional preference does not move the group
                if (c.score() < INFINITY && c.score() > -INFINITY) continue;
            }
            Top p = topOf.get(c.primary());
            if (!(p.unit() != null ? p.unit().allocated : p.cloneRt().allocated)) continue; // a colocation loop
            Set<String> primaryNodes = primaryNodes(p, c.primaryRole());
            applyColocation(s, c.score(), primaryNodes);
        }
    }

    /** The nodes the primary will run on (in the given role, if any). */
    private Set<String> primaryNodes(Top p, Role role) {
        Set<String> out = new LinkedHashSet<>();
        if (p.unit() != null) {
            if (p.unit().next != null) {
                if (role == null || role == Role.STARTED || p.unit().members.get(0).nextRole == role) out.add(p.unit().next);
            }
        } else {
            for (Unit u : p.cloneRt().instances) {
                if (u.next == null) continue;
                if (role == Role.PROMOTED && u.members.get(0).nextRole != Role.PROMOTED) continue;
                if (role == Role.UNPROMOTED && u.members.get(0).nextRole != Role.UNPROMOTED) continue;
                out.add(u.next);
            }
        }
        return out;
    }

    private void applyColocation(Map<String, Integer> s, int score, Set<String> primaryNodes) {
        if (score >= INFINITY) {
            for (String n : new ArrayList<>(s.keySet())) if (!primaryNodes.contains(n)) s.put(n, -INFINITY);
        } else if (score <= -INFINITY) {
            for (String n : primaryNodes) s.put(n, -INFINITY);
        } else {
            for (String n : primaryNodes) if (s.containsKey(n)) merge(s, n, score);
        }
    }

    /** Adds the preferences of not-yet-placed dependents to a primary's scores (scaled by score/INFINITY). */
    private void addDependentPreferences(Top t, Map<String, Integer> s) {
        for (Colocation c : colocationsOf(t)) {
            if (topOf.get(c.primary()) != t || topOf.get(c.dependent()) == null || topOf.get(c.dependent()) == t) continue;
            if (!c.influence() || c.score() <= -INFINITY || c.score() == 0) continue;
            if (c.primaryRole() == Role.PROMOTED || c.dependentRole() == Role.PROMOTED) continue;
            Top d = topOf.get(c.dependent());
            if (d.unit() != null ? d.unit().allocated : d.cloneRt().allocated) continue;
            Map<String, Integer> ds;
            if (d.unit() != null) {
                ds = unitScores(d.unit(), baseScores());
            } else {
                ds = cloneBaseScores(d.cloneRt());
            }
            double factor = (double) c.score() / INFINITY;
            Map<String, Integer> before = new LinkedHashMap<>(s);
            for (Map.Entry<String, Integer> e : ds.entrySet()) {
                Integer cur = s.get(e.getKey());
                if (cur == null || cur <= -INFINITY) continue;
                int w = e.getValue();
                // Pacemaker's arithmetic: a dependent banned from a node (-INFINITY) pulls the primary of a
                // -5000 anti-colocation towards that node by +5000.
                int add = (int) (factor * w);
                if (t.cloneRt() != null && factor > 0 && add < 0) continue; // a clone is not pushed away by dependents
                if (add != 0) s.put(e.getKey(), Score.add(cur, add));
            }
            if (!anyAvailable(s)) {
                s.clear();
                s.putAll(before);
            }
        }
    }

    private boolean anyAvailable(Map<String, Integer> s) {
        for (Map.Entry<String, Integer> e : s.entrySet()) {
            NodeInfo n = nodes.get(e.getKey());
            if (n != null && n.canRun() && e.getValue() >= 0) return true;
        }
        return false;
    }

    private void allocateUnit(Top t, Unit u) {
        Map<String, Integer> s = unitScores(u, baseScores());
        applyColocationsAsDependent(t, s, false);
        addDependentPreferences(t, s);
        u.scores = s;
        allocationScores.put(u.id, displayScores(s));
        Inst first = u.members.get(0);
        String target = first.meta.get("target-role");
        boolean stopped = stopAll || target != null && Role.parse(target) == Role.STOPPED;
        pendingNeed = need(u, t);
        String chosen = stopped ? null : bestNode(s, u.current());
        assignUnit(u, chosen);
        u.allocated = true;
    }

    private Map<String, Integer> displayScores(Map<String, Integer> s) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String n : nodes.keySet()) out.put(n, s.getOrDefault(n, -INFINITY));
        return out;
    }

    /**
     * Picks a node as Pacemaker does: highest score, then (unless the strategy is "minimal") fewer
     * resources assigned so far, then the current node, then the lowest name. A current node that ties
     * with a positive best score wins.
     */
    private String bestNode(Map<String, Integer> s, String current) {
        List<String> names = new ArrayList<>();
        for (String name : nodes.keySet()) {
            Integer score = s.get(name);
            if (score != null && score >= 0 && nodes.get(name).canRun()) names.add(name);
        }
        String strategy = config.property("placement-strategy", "default").toLowerCase(Locale.ROOT);
        if (!strategy.equals("default")) names.removeIf(n -> !nodes.get(n).fits(pendingNeed));
        if (names.isEmpty()) return null;
        boolean minimal = strategy.equals("minimal");
        Comparator<String> order = Comparator.comparingInt((String n) -> -s.get(n));
        if (strategy.equals("balanced")) order = order.thenComparingInt(n -> -nodes.get(n).free());
        if (!minimal) {
            order = order.thenComparingInt(n -> nodes.get(n).assigned)
                    .thenComparingInt(n -> n.equals(current) ? 0 : 1);
        }
        order = order.thenComparing(Comparator.naturalOrder());
        names.sort(order);
        String best = names.get(0);
        int bestScore = s.get(best);
        if (current != null && !current.equals(best) && bestScore > 0 && names.contains(current)
                && s.get(current) == bestScore) {
            best = current;
        }
        return best;
    }

    /** The utilization the unit being placed needs (set before choosing its node). */
    private Map<String, Integer> pendingNeed = Map.of();

    /** A unit's utilization, plus that of not yet placed resources that must run with it. */
    private Map<String, Integer> need(Unit u, Top t) {
        Map<String, Integer> need = new LinkedHashMap<>();
        for (Inst m : u.members) m.def.utilization().forEach((k, v) -> need.merge(k, Score.parseOr(v, 0), Integer::sum));
        if (t != null) {
            for (Colocation c : colocationsOf(t)) {
                Top d = topOf.get(c.dependent());
                if (topOf.get(c.primary()) != t || d == null || d == t || d.unit() == null || d.unit().allocated
                        || c.score() < INFINITY) continue;
                for (Inst m : d.unit().members) m.def.utilization().forEach((k, v) -> need.merge(k, Score.parseOr(v, 0), Integer::sum));
            }
        }
        return need;
    }

    private void assignUnit(Unit u, String node) {
        u.next = node;
        if (node != null) {
            NodeInfo n = nodes.get(node);
            for (Inst m : u.members) m.def.utilization().forEach((k, v) -> n.used.merge(k, Score.parseOr(v, 0), Integer::sum));
        }
        boolean chainBroken = node == null;
        for (Inst m : u.members) {
            String target = m.meta.get("target-role");
            boolean stopped = target != null && Role.parse(target) == Role.STOPPED;
            if (!chainBroken && (stopped || m.bannedOn.contains(node) || m.bannedEverywhere
                    || memberScore(m, node) <= -INFINITY)) {
                chainBroken = true;
            }
            if (chainBroken) {
                m.next = null;
                m.nextRole = Role.STOPPED;
            } else {
                m.next = node;
                m.nextRole = u.clone != null && u.clone.def.promotable() ? Role.UNPROMOTED : Role.STARTED;
            }
        }
        // every primitive placed counts towards the node's load, as in Pacemaker's tie-break
        if (node != null) for (Inst m : u.members) if (m.next != null) nodes.get(node).assigned++;
    }

    private int memberScore(Inst m, String node) {
        if (m.unit.members.size() == 1) return 0;
        Map<String, Integer> s = new LinkedHashMap<>();
        addLocations(s, m.def.id(), null);
        return s.getOrDefault(node, 0);
    }

    private Map<String, Integer> cloneBaseScores(CloneRt rt) {
        Map<String, Integer> s = baseScores();
        addLocations(s, rt.def.id(), null);
        addLocations(s, rt.childId(), null);
        if (rt.def.child() instanceof Group g) {
            for (Primitive p : g.members()) {
                Map<String, Integer> ms = new LinkedHashMap<>();
                addLocations(ms, p.id(), null);
                for (Map.Entry<String, Integer> e : ms.entrySet()) merge(s, e.getKey(), e.getValue());
            }
        }
        // The child's own target-role, if it has one, overrides the clone's (as in Pacemaker).
        String target = rt.instances.isEmpty() ? rt.meta.get("target-role") : rt.instances.get(0).meta.get("target-role");
        if (stopAll || target != null && Role.parse(target) == Role.STOPPED) for (String n : nodes.keySet()) s.put(n, -INFINITY);
        return s;
    }

    private void allocateClone(Top t, CloneRt rt) {
        Map<String, Integer> s = cloneBaseScores(rt);
        applyColocationsAsDependent(t, s, true);
        addDependentPreferences(t, s);
        rt.scores = s;
        allocationScores.put(rt.def.id(), displayScores(s));
        Map<String, Integer> perNode = new HashMap<>();
        int assigned = 0;
        List<Unit> pending = new ArrayList<>();
        // Keep instances where they run when that node still suits them.
        for (Unit u : rt.instances) {
            String cur = u.current();
            Map<String, Integer> us = unitScores(u, s);
            u.scores = us;
            if (cur == null) {
                pending.add(u);
                continue;
            }
            if (prefersCurrent(us, cur, perNode, rt.nodeMax, spreadsEverywhere(rt, us)) && assigned < rt.max) {
                assignUnit(u, cur);
                perNode.merge(cur, 1, Integer::sum);
                assigned++;
            } else {
                pending.add(u);
            }
        }
        // Displaced healthy instances move before fresh ones start; failed ones are replaced by fresh ones.
        pending.sort(Comparator.comparingInt(this::pendingRank).thenComparingInt(u -> u.index));
        for (Unit u : pending) {
            String node = null;
            NodeInfo cur = u.current() == null ? null : nodes.get(u.current());
            // An anonymous instance that could stay but may not is stopped and a fresh one started;
            // a unique instance keeps its identity and moves.
            boolean stuck = cur != null && cur.canRun() && !rt.unique();
            if (assigned < rt.max && !stuck) node = bestNodeWithLimit(u.scores, u.current(), perNode, rt.nodeMax);
            assignUnit(u, node);
            if (node != null) {
                perNode.merge(node, 1, Integer::sum);
                assigned++;
            }
        }
        for (Unit u : rt.instances) {
            allocationScores.put(u.id, displayScores(u.scores));
            u.allocated = true;
        }
        rt.allocated = true;
        // As Pacemaker does, roles are set as soon as the clone is placed, so resources colocated with
        // its promoted instance can follow it.
        if (rt.def.promotable()) promote(t, rt);
    }


    /** Pacemaker keeps an instance where it runs when that node scores at least as well as the best one. */
    private boolean prefersCurrent(Map<String, Integer> s, String cur, Map<String, Integer> perNode, int nodeMax,
                                   boolean everywhere) {
        NodeInfo n = nodes.get(cur);
        Integer cs = s.get(cur);
        if (n == null || !n.canRun() || cs == null || cs < 0 || perNode.getOrDefault(cur, 0) >= nodeMax) return false;
        if (everywhere) return true; // every usable node gets an instance anyway: moving one is a pointless shuffle
        for (Map.Entry<String, Integer> e : s.entrySet()) {
            NodeInfo o = nodes.get(e.getKey());
            if (o != null && o.canRun() && perNode.getOrDefault(e.getKey(), 0) < nodeMax && e.getValue() > cs) return false;
        }
        return true;
    }

    /** Will the clone have an instance on every node it may use? */
    private boolean spreadsEverywhere(CloneRt rt, Map<String, Integer> s) {
        int usable = 0;
        for (Map.Entry<String, Integer> e : s.entrySet()) {
            NodeInfo n = nodes.get(e.getKey());
            if (n != null && n.canRun() && e.getValue() >= 0) usable++;
        }
        return (long) rt.max >= (long) usable * rt.nodeMax;
    }

    private int pendingRank(Unit u) {
        if (!u.active()) return 1;
        NodeInfo n = nodes.get(u.current());
        boolean failed = false;
        for (Inst m : u.members) failed |= m.failed();
        return failed || (n != null && n.unclean) ? 2 : 0;
    }

    private String bestNodeWithLimit(Map<String, Integer> s, String current, Map<String, Integer> perNode, int nodeMax) {
        pendingNeed = Map.of();
        Map<String, Integer> limited = new LinkedHashMap<>(s);
        for (Map.Entry<String, Integer> e : perNode.entrySet()) {
            if (e.getValue() >= nodeMax) limited.put(e.getKey(), -INFINITY);
        }
        return bestNode(limited, current);
    }

    // ------------------------------------------------------------------ promotion


    private void promote(Top t, CloneRt rt) {
        String target = rt.meta.get("target-role");
        Role targetRole = target == null ? null : Role.parse(target);
        boolean mayPromote = targetRole == null || targetRole == Role.PROMOTED || targetRole == Role.STARTED;
        Map<String, Integer> roleScores = new LinkedHashMap<>();
        addLocations(roleScores, rt.def.id(), Role.PROMOTED);
        addLocations(roleScores, rt.childId(), Role.PROMOTED);
        List<Unit> candidates = new ArrayList<>();
        Map<Unit, Integer> score = new HashMap<>();
        for (Unit u : rt.instances) {
            Inst first = u.members.get(0);
            if (u.next == null) {
                promotionScores.put(u.id, -INFINITY);
                continue;
            }
            int sc = promotionAttribute(u, u.next);
            sc = Score.add(sc, roleScores.getOrDefault(u.next, 0));
            for (Colocation c : colocationsOf(t)) {
                if (topOf.get(c.dependent()) != t || c.dependentRole() != Role.PROMOTED) continue;
                Top p = topOf.get(c.primary());
                if (p == null || p == t) continue;
                Set<String> pn = primaryNodes(p, c.primaryRole());
                if (c.score() >= INFINITY && !pn.contains(u.next)) sc = -INFINITY;
                else if (c.score() <= -INFINITY && pn.contains(u.next)) sc = -INFINITY;
                else if (pn.contains(u.next)) sc = Score.add(sc, c.score());
            }
            for (Colocation c : colocationsOf(t)) {
                if (topOf.get(c.primary()) != t || c.primaryRole() != Role.PROMOTED) continue;
                Top d = topOf.get(c.dependent());
                if (d == null || d == t || d.unit() == null) continue;
                // an already-placed dependent pulls the promoted role towards itself
                Map<String, Integer> ds = unitScores(d.unit(), baseScores());
                Integer w = ds.get(u.next);
                if (w != null && w > -INFINITY && c.score() > 0) sc = Score.add(sc, (int) ((double) c.score() / INFINITY * w));
            }
            if (first.failedOn.contains(u.next) && first.roleOn.get(u.next) == Role.PROMOTED) sc = Score.add(sc, 0);
            promotionScores.put(u.id, sc);
            score.put(u, sc);
            candidates.add(u);
        }
        candidates.sort(Comparator.comparingInt((Unit u) -> -score.get(u))
                .thenComparing((Unit u) -> u.members.get(0).role == Role.PROMOTED ? 0 : 1)
                .thenComparingInt(u -> u.index));
        int promoted = 0;
        Map<String, Integer> perNode = new HashMap<>();
        for (Unit u : rt.instances) {
            Inst first = u.members.get(0);
            String cur = first.current();
            if (cur != null && first.role == Role.PROMOTED && (first.blockedOn.contains(cur) || !first.managed())) {
                promoted++; // a promoted copy we may not touch still holds its promoted slot
                perNode.merge(cur, 1, Integer::sum);
            }
        }
        for (Unit u : candidates) {
            int sc = score.get(u);
            boolean ok = mayPromote && sc >= 0 && promoted < rt.promotedMax
                    && perNode.getOrDefault(u.next, 0) < rt.promotedNodeMax
                    && !(quorumBlocksStart && noQuorumPolicy.equals("demote"));
            if (ok) {
                promoted++;
                perNode.merge(u.next, 1, Integer::sum);
                for (Inst m : u.members) if (m.next != null) m.nextRole = Role.PROMOTED;
            }
        }
    }

    private int promotionAttribute(Unit u, String node) {
        NodeInfo n = nodes.get(node);
        String child = u.members.get(0).def.id();
        String v = n.attrs.get("master-" + child);
        if (v == null) v = n.attrs.get("master-" + u.members.get(0).id);
        if (v == null) v = n.attrs.get("promotion-" + child);
        if (v == null) return u.members.get(0).roleOn.get(node) == Role.PROMOTED ? 0 : -1;
        return Score.parseOr(v, 0);
    }

    // ------------------------------------------------------------------ quorum, tickets

    private void applyQuorumAndTickets() {
        for (Inst i : allInstances()) {
            if (quorumBlocksStart) {
                if (noQuorumPolicy.equals("freeze")) {
                    if (i.current() == null) {
                        block(i, "quorum freeze");
                    }
                } else if (noQuorumPolicy.equals("stop") || noQuorumPolicy.equals("suicide")) {
                    block(i, "no quorum");
                }
            }
        }
        for (TicketConstraint tc : config.tickets()) {
            Boolean granted = state.tickets().get(tc.ticket());
            boolean ok = granted != null && granted && !state.standbyTickets().contains(tc.ticket());
            if (ok) continue;
            Top t = topOf.get(tc.resource());
            if (t == null) continue;
            for (Inst i : instancesOf(t)) {
                String policy = tc.lossPolicy() == null ? "stop" : tc.lossPolicy();
                if (policy.equals("demote") && tc.role() == Role.PROMOTED) {
                    if (i.nextRole == Role.PROMOTED) i.nextRole = Role.UNPROMOTED;
                    continue;
                }
                if (policy.equals("freeze") && tc.role() == Role.PROMOTED) {
                    // keep the promoted copies; promote no new ones
                    if (i.current() != null && i.role == Role.PROMOTED) {
                        i.next = i.current();
                        i.nextRole = Role.PROMOTED;
                    } else if (i.nextRole == Role.PROMOTED) {
                        i.nextRole = Role.UNPROMOTED;
                    }
                    continue;
                }
                if (policy.equals("freeze")) {
                    // keep what runs as it is; start nothing new
                    if (i.current() != null) {
                        i.next = i.current();
                        i.nextRole = i.role;
                    } else {
                        i.next = null;
                        i.nextRole = Role.STOPPED;
                    }
                    continue;
                }
                if (policy.equals("fence") && i.current() != null && fencingEnabled && (granted == null || !granted)) {
                    for (String n : i.runningOn) fence(nodes.get(n), "deadman ticket was lost");
                }
                i.next = null;
                i.nextRole = Role.STOPPED;
            }
        }
    }

    private void block(Inst i, String reason) {
        if (i.next == null) return;
        i.startRunnable = false;
        if (i.startReason == null) i.startReason = reason;
    }

    List<Inst> allInstances() {
        List<Inst> out = new ArrayList<>();
        for (Top t : tops) out.addAll(instancesOf(t));
        out.addAll(orphans);
        return out;
    }

    static List<Inst> instancesOf(Top t) {
        List<Inst> out = new ArrayList<>();
        if (t.unit() != null) out.addAll(t.unit().members);
        else for (Unit u : t.cloneRt().instances) out.addAll(u.members);
        return out;
    }

    Top topOf(String id) {
        return topOf.get(id);
    }

    // ------------------------------------------------------------------ orderings

    /** Does this instance need a (non-optional) start: starting fresh, moving, or recovering? */
    static boolean startRequired(Inst i) {
        if (i.next == null || !i.startRunnable) return false;
        if (i.current() == null) return true;
        if (!i.current().equals(i.next) || i.runningOn.size() > 1) return true;
        return i.failed() || i.forcedRestart;
    }

    static boolean stopRequired(Inst i) {
        if (i.current() == null) return false;
        return i.next == null || !i.startRunnable || !i.current().equals(i.next) || i.failed() || i.forcedRestart
                || i.runningOn.size() > 1;
    }

    private void applyOrderings() {
        List<Order> orders = new ArrayList<>();
        // Groups order their members: each starts after the previous one.
        for (Top t : tops) {
            if (t.unit() != null && t.unit().members.size() > 1) addGroupOrders(t.unit().members, orders);
            if (t.cloneRt() != null && t.cloneRt().def.child() instanceof Group) {
                for (Unit u : t.cloneRt().instances) addGroupOrders(u.members, orders);
            }
        }
        // Iterate to a fixed point: a restart or a blocked start can cascade down a chain.
        for (int round = 0; round < 20; round++) {
            boolean changed = false;
            for (Order o : config.orders()) changed |= applyOrder(o, false);
            for (Order o : orders) changed |= applyOrder(o, true);
            if (!changed) break;
        }
    }

    private void addGroupOrders(List<Inst> members, List<Order> out) {
        for (int k = 1; k < members.size(); k++) {
            out.add(new Order("group", members.get(k - 1).id, "start", members.get(k).id, "start", "Mandatory", true));
        }
    }

    private boolean applyOrder(Order o, boolean internal) {
        if (!o.mandatory()) return false;
        if (!"start".equals(o.firstAction()) && !"promote".equals(o.firstAction())) return false;
        if (!"start".equals(o.thenAction()) && !"promote".equals(o.thenAction())) return false;
        List<Inst> firsts = internal ? List.of(instById.get(o.first())) : resolve(o.first(), true);
        List<Inst> thens = internal ? List.of(instById.get(o.then())) : resolve(o.then(), false);
        if (firsts.isEmpty() || thens.isEmpty()) return false;
        Top ft = internal ? null : topOf.get(o.first());
        Top tt = internal ? null : topOf.get(o.then());
        boolean firstIsClone = ft != null && ft.cloneRt() != null;
        boolean thenIsClone = tt != null && tt.cloneRt() != null;
        boolean interleave = firstIsClone && thenIsClone && isTrue(tt.cloneRt().meta.get("interleave"));
        boolean changed = false;
        for (Inst then : thens) {
            List<Inst> relevant = firsts;
            if (interleave) {
                relevant = new ArrayList<>();
                for (Inst f : firsts) if (f.next != null && f.next.equals(then.next)) relevant.add(f);
            }
            boolean anyRunnable = false;
            boolean anyStopping = false;
            Inst requiredFirst = null;
            for (Inst f : relevant) {
                boolean willRun = f.next != null && f.startRunnable
                        && (!"promote".equals(o.firstAction()) || f.nextRole == Role.PROMOTED);
                if (willRun) anyRunnable = true;
                if (f.current() != null && !willRun) anyStopping = true;
                if (startRequired(f) && requiredFirst == null) requiredFirst = f;
            }
            if (then.next == null || !then.startRunnable || !"start".equals(o.thenAction())) continue;
            String firstName = displayFirst(o, ft, relevant);
            String word = firstActionWord(o, ft);
            if (!anyRunnable && startRequired(then)) {
                // nothing it depends on can run, so it cannot start
                then.startRunnable = false;
                then.startReason = "unrunnable " + firstName + " " + word;
                changed = true;
            } else if (!anyRunnable && o.symmetrical() && then.current() != null) {
                // what it depends on cannot run (or stops for good), so it stops first
                then.startRunnable = false;
                then.startReason = (anyStopping && !firstIsClone ? "required " : "unrunnable ") + firstName + " " + word;
                changed = true;
            } else if (requiredFirst != null && then.current() != null && then.current().equals(then.next)
                    && !then.forcedRestart && !then.failed() && !(thenIsClone && firstIsClone && !interleave)) {
                if (firstIsClone && !thenIsClone && requiredFirst.current() != null) continue;
                then.forcedRestart = true;
                boolean wholeGroup = ft != null && ft.unit() != null && ft.unit().members.size() > 1 && ft.id().equals(o.first());
                then.restartReason = "required " + (firstIsClone && !interleave || wholeGroup ? ft.id() + " " + word
                        : requiredFirst.id + " start");
                changed = true;
            }
        }
        return changed;
    }

    private static String firstActionWord(Order o, Top ft) {
        boolean whole = ft != null && (ft.cloneRt() != null
                || ft.unit() != null && ft.unit().members.size() > 1 && ft.id().equals(o.first()));
        if (whole) return "promote".equals(o.firstAction()) ? "promoted" : "running";
        return o.firstAction();
    }

    private static String displayFirst(Order o, Top ft, List<Inst> relevant) {
        if (ft != null && ft.cloneRt() != null) return ft.id();
        if (ft != null && ft.unit() != null && ft.unit().members.size() > 1 && ft.id().equals(o.first())) return ft.id();
        return relevant.isEmpty() ? o.first() : relevant.get(0).id;
    }

    /** The primitive instances an order or colocation names (a group means all its members). */
    private List<Inst> resolve(String id, boolean firstSide) {
        Inst direct = instById.get(id);
        if (direct != null) return List.of(direct);
        Top t = topOf.get(id);
        if (t == null) return List.of();
        if (t.cloneRt() != null) {
            List<Inst> out = new ArrayList<>();
            int k = t.cloneRt().def.child() instanceof Group g ? indexIn(g, id) : 0;
            for (Unit u : t.cloneRt().instances) {
                if (k >= 0) out.add(u.members.get(k));
                else out.add(u.members.get(firstSide ? u.members.size() - 1 : 0));
            }
            return out;
        }
        if (t.unit().members.size() > 1 && t.id().equals(id)) {
            return List.of(t.unit().members.get(firstSide ? t.unit().members.size() - 1 : 0));
        }
        return List.copyOf(t.unit().members);
    }

    private static int indexIn(Group g, String id) {
        for (int k = 0; k < g.members().size(); k++) if (g.members().get(k).id().equals(id)) return k;
        return -1;
    }
}
