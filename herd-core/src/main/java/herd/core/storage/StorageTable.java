package herd.core.storage;

import herd.blockcore.placement.Ring;
import herd.blockcore.placement.StorageNode;
import herd.core.ErrorCode;
import herd.core.Rejection;
import herd.core.cluster.NodeInfo;
import herd.core.command.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The storage part of the cluster state: which nodes offer storage, the cluster's default number of
 * copies, the storage epochs and how far each node's recovery got. Owned by
 * {@link herd.core.ClusterState}, which serialises access.
 *
 * <p>The members of an epoch are the registered nodes that are up (heartbeating members of the
 * cluster) and not cut off. Every change of that set starts a new epoch; the last {@link #KEPT_EPOCHS}
 * are kept so that a node recovering after several changes can still find where an object's copies were.
 *
 * <p>A node is cut off when it heartbeats but more than half of the other up storage nodes report
 * that they cannot reach its data path (its object channel is cut, say): left in the epoch, every
 * change to its copies would wait for it and fail. One node's report is not enough, since it cannot
 * tell its own bad link from the other's; a node cut off has no say about the others (so of two
 * nodes that lose each other, the first to report stays), and the last member is never cut off. A
 * node is let back in once the majority no longer reports it, and must then report again.
 *
 * <p>A node whose own store does not answer (its disk hangs: an operation on it has waited far
 * longer than a disk takes, while its other parts answer) says so itself, and is kept out of the
 * epoch until it says its store answers again. Only one node at a time is kept out on its own word,
 * and never the last member: when every disk is merely slow, each would say so, and taking them all
 * out would leave no copy to write to.
 */
public final class StorageTable {
    /** Epochs kept in the state: enough to look back over a burst of membership changes. */
    public static final int KEPT_EPOCHS = 64;
    /** Most copies of one object: one per zone, and more than this buys nothing but cost. */
    public static final int MAX_COPIES = 8;
    /** Longest reason a node may give for renewing an epoch. */
    public static final int MAX_REASON_CHARS = 1000;
    /** Most nodes one report of unreachable storage nodes names: far more than a cluster has. */
    public static final int MAX_REPORTED_NODES = 1000;

    private int defaultCopies = 1;
    private final Map<String, StorageRegistration> registrations = new TreeMap<>();
    private final List<StorageEpoch> epochs = new ArrayList<>();
    private final Map<String, Long> recoveredEpochs = new TreeMap<>();
    /** Each storage node's last report: the other storage nodes whose data path it cannot reach. */
    private final Map<String, Set<String>> unreachableByReporter = new TreeMap<>();
    /** Up storage nodes kept out of the epoch because the majority cannot reach their data path. */
    private final Set<String> cutOff = new TreeSet<>();
    /** Each storage node's own word that its store does not answer: why. */
    private final Map<String, String> stalls = new TreeMap<>();
    /** The up storage node, if any, kept out of the epoch on its word that its store does not answer. */
    private final Set<String> outForStall = new TreeSet<>();

    public int defaultCopies() {
        return defaultCopies;
    }

    /** The current epoch (epoch 0 with no members before any node offered storage). */
    public StorageEpoch current() {
        return epochs.isEmpty() ? new StorageEpoch(0, List.of()) : epochs.get(epochs.size() - 1);
    }

    public List<StorageEpoch> epochs() {
        return List.copyOf(epochs);
    }

    public Map<String, Long> recoveredEpochs() {
        return Map.copyOf(recoveredEpochs);
    }

    public List<StorageRegistration> registrations() {
        return List.copyOf(registrations.values());
    }

    /** The nodes whose reports keep {@code node} cut off, in name order; empty when it is not cut off. */
    public List<String> cutOffBy(String node) {
        if (!cutOff.contains(node)) {
            return List.of();
        }
        return unreachableByReporter.entrySet().stream().filter(report -> report.getValue().contains(node))
            .filter(report -> !cutOff.contains(report.getKey())).map(Map.Entry::getKey).toList();
    }

    /** Why {@code node} says its store does not answer; empty when it answers (or the node said nothing). */
    public String stall(String node) {
        return stalls.getOrDefault(node, "");
    }

    /** Zones of the registered storage nodes, up or not: how many copies a volume may ask for. */
    public int zoneCount(Map<String, NodeInfo> nodes) {
        return (int) registrations.keySet().stream().map(nodes::get).filter(java.util.Objects::nonNull)
            .map(NodeInfo::zone).distinct().count();
    }

    // ---- commands ----

    public Outcome register(String node, long capacityBytes) {
        StorageRegistration previous = registrations.put(node, new StorageRegistration(node, capacityBytes));
        return new Outcome.Applied((previous == null ? "node " + node + " offers " : "node " + node + " now offers ")
            + capacityBytes + " bytes of storage");
    }

    public Outcome unregister(String node) {
        registrations.remove(node);
        recoveredEpochs.remove(node);
        unreachableByReporter.remove(node);
        cutOff.remove(node);
        stalls.remove(node);
        outForStall.remove(node);
        return new Outcome.Applied("node " + node + " offers no storage any more");
    }

    public Outcome setDefaultCopies(int copies, Map<String, NodeInfo> nodes) {
        int zones = zoneCount(nodes);
        if (copies > 1 && copies > zones) { // one copy needs no zone yet, as for CreateVolume
            return new Outcome.Rejected(tooManyCopies(copies, zones, "the cluster default"));
        }
        defaultCopies = copies;
        return new Outcome.Applied("volumes keep " + copies + " cop" + (copies == 1 ? "y" : "ies") + " by default");
    }

    /** Records that {@code node} holds every object the ring of {@code epoch} gives it. */
    public Outcome recovered(String node, long epoch) {
        long current = current().epoch();
        if (epoch > current) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "epoch " + epoch
                + " has not started (the current epoch is " + current + ")"));
        }
        recoveredEpochs.merge(node, epoch, Math::max);
        return new Outcome.Applied("node " + node + " recovered epoch " + epoch);
    }

    /**
     * Ends epoch {@code epoch} and begins the next with the same members, if {@code epoch} is still
     * current; a later epoch already did what was asked, so asking again (another change of the same
     * epoch timed out too) changes nothing.
     */
    public Outcome renew(long epoch, String node, String reason) {
        StorageEpoch current = current();
        if (epoch > current.epoch()) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "epoch " + epoch
                + " has not started (the current epoch is " + current.epoch() + ")"));
        }
        if (epoch < current.epoch()) {
            return new Outcome.Applied("storage epoch " + epoch + " has ended already: epoch " + current.epoch()
                + " is current");
        }
        if (current.members().isEmpty()) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "storage epoch " + epoch
                + " has no members: there is no copy to renew it for"));
        }
        begin(new StorageEpoch(current.epoch() + 1, current.members()));
        return new Outcome.Applied("storage epoch " + (current.epoch() + 1) + " began with the same members, for node "
            + node + ": " + reason);
    }

    /**
     * Records which storage nodes' data path {@code node} cannot reach now (none: it reaches them all),
     * replacing its previous report; the next {@link #refresh} cuts off or lets back in accordingly.
     */
    public Outcome reportUnreachable(String node, List<String> unreachable) {
        if (!registrations.containsKey(node)) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "node " + node
                + " offers no storage, so it has no say about other storage nodes"));
        }
        for (String other : unreachable) {
            if (!registrations.containsKey(other)) {
                return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "node " + other
                    + " offers no storage (herd storage status lists the storage nodes)"));
            }
        }
        Set<String> report = new TreeSet<>(unreachable);
        Set<String> previous = report.isEmpty() ? unreachableByReporter.remove(node) : unreachableByReporter.put(node, report);
        if (report.equals(previous == null ? Set.of() : previous)) {
            return new Outcome.Applied("node " + node + " reported the same storage nodes unreachable as before");
        }
        return new Outcome.Applied(report.isEmpty() ? "node " + node + " reaches the data path of every storage node"
            : "node " + node + " cannot reach the data path of " + String.join(", ", report));
    }

    /**
     * Records {@code node}'s word about its own store: why it does not answer, or (empty) that it
     * answers; the next {@link #refresh} takes it out of the epoch or lets it back in accordingly.
     */
    public Outcome reportStall(String node, String stall) {
        if (!registrations.containsKey(node)) {
            return new Outcome.Rejected(new Rejection(ErrorCode.BAD_REQUEST, "node " + node
                + " offers no storage, so it has no store to report on"));
        }
        String previous = stall.isEmpty() ? stalls.remove(node) : stalls.put(node, stall);
        if (stall.isEmpty()) {
            return new Outcome.Applied(previous == null ? "node " + node + "'s store answers, as before"
                : "node " + node + "'s store answers again");
        }
        return new Outcome.Applied("node " + node + "'s store does not answer: " + stall);
    }

    /** Why a volume cannot keep {@code copies} copies, if it cannot: more copies than zones. */
    public Optional<Rejection> copiesRefusal(int copies, String what, Map<String, NodeInfo> nodes) {
        int zones = zoneCount(nodes);
        return copies <= zones ? Optional.empty() : Optional.of(tooManyCopies(copies, zones, what));
    }

    private static Rejection tooManyCopies(int copies, int zones, String what) {
        return new Rejection(ErrorCode.BAD_REQUEST, copies + " copies asked for " + what + ", but the storage nodes span "
            + zones + " zone(s) and copies of one object never share a zone: ask for at most " + zones
            + " or add storage nodes in other zones (herd node list shows them)");
    }

    /**
     * Starts a new epoch when the set of up storage nodes that are not cut off differs from the current
     * epoch's. Runs after every command that may change it; a node's zone and capacity come from its records.
     */
    public void refresh(Map<String, NodeInfo> nodes, Set<String> upNodes) {
        Set<String> candidates = new TreeSet<>();
        for (StorageRegistration registration : registrations.values()) {
            if (nodes.containsKey(registration.node()) && upNodes.contains(registration.node())) {
                candidates.add(registration.node());
            }
        }
        updateCutOff(candidates);
        updateOutForStall(candidates);
        List<StorageNode> members = new ArrayList<>();
        for (String name : candidates) {
            if (!cutOff.contains(name) && !outForStall.contains(name)) {
                members.add(new StorageNode(name, nodes.get(name).zone(), registrations.get(name).capacityBytes()));
            }
        }
        StorageEpoch current = current();
        if (members.equals(current.members())) {
            return;
        }
        begin(new StorageEpoch(current.epoch() + 1, members));
    }

    /**
     * Lets back in the cut-off nodes the majority reaches again, then cuts off, in name order, the
     * candidates the majority cannot reach, keeping at least one member. A node that is down leaves
     * the cut-off set and its report is dropped: whether it is reached, and what it reaches, are
     * decided again when it is back.
     */
    private void updateCutOff(Set<String> candidates) {
        cutOff.retainAll(candidates);
        unreachableByReporter.keySet().retainAll(candidates); // a node back from down reports afresh
        for (String node : List.copyOf(cutOff)) {
            if (!majorityCannotReach(node, candidates)) {
                cutOff.remove(node);
                unreachableByReporter.remove(node); // what it reported while cut off is not its word now
            }
        }
        for (String node : candidates) {
            boolean leavesAMember = candidates.stream()
                .anyMatch(other -> !other.equals(node) && !cutOff.contains(other) && !outForStall.contains(other));
            if (!cutOff.contains(node) && leavesAMember && majorityCannotReach(node, candidates)) {
                cutOff.add(node);
            }
        }
    }

    /**
     * Lets back in the node kept out for its store once it says its store answers, or it was cut
     * off meanwhile (which keeps it out anyway), or it would be the last member; then, if no node is
     * out on its own word, takes out the first in name order that says its store does not answer,
     * keeping at least one member.
     */
    private void updateOutForStall(Set<String> candidates) {
        stalls.keySet().retainAll(candidates); // a node back from down says afresh how its store is
        outForStall.retainAll(candidates);
        outForStall.removeIf(node -> !stalls.containsKey(node) || cutOff.contains(node));
        if (candidates.size() - cutOff.size() - outForStall.size() < 1) {
            outForStall.clear(); // the others went: the last member stays in, whatever its store says
        }
        if (!outForStall.isEmpty()) {
            return;
        }
        boolean leavesAMember = candidates.size() - cutOff.size() > 1;
        stalls.keySet().stream().filter(node -> !cutOff.contains(node)).findFirst()
            .filter(node -> leavesAMember).ifPresent(outForStall::add);
    }

    /** Whether more than half of the other candidates not cut off report that they cannot reach {@code node}. */
    private boolean majorityCannotReach(String node, Set<String> candidates) {
        int voters = 0;
        int unreached = 0;
        for (String voter : candidates) {
            if (voter.equals(node) || cutOff.contains(voter)) {
                continue;
            }
            voters++;
            if (unreachableByReporter.getOrDefault(voter, Set.of()).contains(node)) {
                unreached++;
            }
        }
        return voters > 0 && 2 * unreached > voters;
    }

    private void begin(StorageEpoch next) {
        epochs.add(next);
        while (epochs.size() > KEPT_EPOCHS) {
            epochs.remove(0);
        }
    }

    /** The epoch with this number, if it is still kept. */
    public Optional<StorageEpoch> epoch(long number) {
        return epochs.stream().filter(e -> e.epoch() == number).findFirst();
    }

    public Ring ring() {
        return current().ring();
    }

    // ---- images ----

    public StorageImage image() {
        Map<String, List<String>> reports = new TreeMap<>();
        unreachableByReporter.forEach((node, report) -> reports.put(node, List.copyOf(report)));
        return new StorageImage(defaultCopies, registrations(), epochs(), recoveredEpochs(), reports, List.copyOf(cutOff),
            Map.copyOf(stalls), List.copyOf(outForStall));
    }

    public void load(StorageImage image) {
        StorageImage source = image == null ? StorageImage.empty() : image;
        defaultCopies = source.defaultCopies() < 1 ? 1 : source.defaultCopies();
        registrations.clear();
        source.registrations().forEach(r -> registrations.put(r.node(), r));
        epochs.clear();
        epochs.addAll(source.epochs());
        recoveredEpochs.clear();
        recoveredEpochs.putAll(source.recoveredEpochs());
        unreachableByReporter.clear();
        source.unreachableByReporter().forEach((node, report) -> unreachableByReporter.put(node, new TreeSet<>(report)));
        cutOff.clear();
        cutOff.addAll(source.cutOff());
        stalls.clear();
        stalls.putAll(source.stalls());
        outForStall.clear();
        outForStall.addAll(source.outForStall());
    }
}
