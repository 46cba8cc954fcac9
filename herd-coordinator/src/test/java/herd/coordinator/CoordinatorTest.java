package herd.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import herd.core.ClusterState;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.FencingEvent;
import herd.core.resource.NodeMembership;
import herd.core.resource.OperationRecord;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Drives the coordinator against a real cluster state, with nodes whose agents answer at once from a
 * model of what runs where: the same loop the leader runs, minus the network.
 */
class CoordinatorTest {
    private static final String DB = "primitive db ocf:heartbeat:Dummy op monitor interval=10s timeout=20s\n";
    private static final String FENCE = "primitive fence-lab stonith:herd-script params command=/bin/true\n"
        + "property stonith-enabled=true\n";
    private static final CoordinatorSettings SETTINGS = CoordinatorSettings.defaults();

    private final ClusterState state = new ClusterState();
    private final Map<String, Long> acked = new HashMap<>();
    /** Per node, the boot id its heartbeats carry (a reboot changes it); heard from lost nodes too. */
    private final Map<String, String> bootIds = new HashMap<>();
    private final Map<String, String> heardBootIds = new HashMap<>();
    private long leaderSince = 0;
    private Coordinator.PreviousLeader previousLeader;
    /** What really runs on each node, whatever the state says. */
    private final Map<String, Set<String>> running = new HashMap<>();
    private final Set<String> alive = new TreeSet<>();
    private final List<FenceRequest> fenceRequests = new ArrayList<>();
    private final List<ActionRequest> sent = new ArrayList<>();
    private Configuration config;
    /** The leader's memory of clone notifications; null: they are not delivered. */
    private NotificationMemory notifications;
    private long index;
    private long now = 1_000_000;
    private long callId;

    private void cluster(String crm, String... nodes) {
        config = CrmShell.parse(crm);
        apply(new Command.InitCluster("lab", node(nodes[0], NodeInfo.Role.SERVER), false));
        for (int i = 1; i < nodes.length; i++) {
            apply(new Command.RegisterNode(node(nodes[i], NodeInfo.Role.WORKER)));
        }
        for (String node : nodes) {
            alive.add(node);
            running.put(node, new HashSet<>());
        }
    }

    private static NodeInfo node(String name, NodeInfo.Role role) {
        int port = 7000 + Math.abs(name.hashCode() % 900) * 2;
        return new NodeInfo(name, role, "127.0.0.1:" + port, role == NodeInfo.Role.SERVER ? "127.0.0.1:" + (port + 1) : null, null);
    }

    private Outcome apply(Command command) {
        return state.apply(++index, command);
    }

    /** One leader tick: heartbeats from live nodes, a decision, its commands and actions carried out. */
    private Decisions tick() {
        ResourceStatusView view = (ResourceStatusView) state.query(new Query.ResourceStatus());
        alive.forEach(node -> {
            heardBootIds.put(node, bootIds.getOrDefault(node, node + "-boot-1"));
            boolean known = view.nodes().stream().anyMatch(info -> info.name().equals(node)); // else answered "unknown"
            if (known && state.nodeStatus(node).membership() != NodeMembership.LOST) {
                acked.put(node, now);
            }
        });
        Decisions decisions = Coordinator.decide(new Coordinator.Input(config, view, Map.copyOf(acked), leaderSince, now,
            Set.of(), Set.of(), SETTINGS, Map.copyOf(heardBootIds), previousLeader), notifications);
        if (decisions.actions().stream().anyMatch(a -> a.operation().equals("monitor") && a.intervalMillis() == 0)) {
            assertThat(decisions.actions()).as("nothing else is sent while probes run")
                .allMatch(a -> a.operation().equals("monitor") && a.intervalMillis() == 0);
        }
        decisions.membershipChanges().forEach(this::apply);
        fenceRequests.addAll(decisions.fences());
        for (ActionRequest action : decisions.actions()) {
            sent.add(action);
            if (action.operation().equals("notify")) {
                notifications.answered(action.key()); // answered to the leader, not recorded, as the node agent does
            } else {
                apply(new Command.RecordOperations(action.node(), List.of(execute(action))));
            }
        }
        return decisions;
    }

    private OperationRecord execute(ActionRequest action) {
        Set<String> here = running.get(action.node());
        int rc = switch (action.operation()) {
            case "start" -> here.add(action.resource()) ? 0 : 0;
            case "stop" -> here.remove(action.resource()) ? 0 : 0;
            case "monitor" -> here.contains(action.resource()) ? 0 : 7;
            default -> 3;
        };
        return new OperationRecord(action.resource(), action.agent(), action.operation(), action.intervalMillis(), rc, 0,
            action.expectedRc(), ++callId, now, 5, "");
    }

    private void runFor(long millis) {
        long end = now + millis;
        while (now < end) {
            tick();
            assertNeverTwice();
            now += 100;
        }
    }

    /** Three nodes with fencing; the one running db stops heartbeating until it is lost. Returns it. */
    private String theNodeRunningDbIsLost() {
        cluster(DB + FENCE, "n1", "n2", "n3");
        runFor(2_000);
        String node = nodesRunning("db").get(0);
        alive.remove(node);
        runFor(SETTINGS.nodeLostAfterMillis() + 500);
        assertThat(state.nodeStatus(node).membership()).isEqualTo(NodeMembership.LOST);
        return node;
    }

    /** The machine reboots: what ran there is gone, and its heartbeats carry a new boot id. */
    private void reboot(String node) {
        running.get(node).clear();
        bootIds.put(node, node + "-boot-2");
    }

    private void assertBackAsAMemberAfterItsReboot(String node) {
        assertThat(state.nodeStatus(node).membership()).isEqualTo(NodeMembership.MEMBER);
        assertThat(state.nodeStatus(node).bootId()).isEqualTo(node + "-boot-2");
        assertThat(nodesRunning("db")).as("db runs again, once").hasSize(1);
    }

    private void assertNeverTwice() {
        long copies = running.values().stream().filter(set -> set.contains("db")).count();
        assertThat(copies).as("db runs on at most one node").isLessThanOrEqualTo(1);
    }

    private List<String> nodesRunning(String resource) {
        return running.entrySet().stream().filter(e -> e.getValue().contains(resource)).map(Map.Entry::getKey).sorted().toList();
    }

    @Test
    void nodesJoinThenProbeThenStartOnceThenMonitor() {
        cluster(DB, "n1", "n2");

        runFor(2_000);

        assertThat(state.nodeStatus("n1").membership()).isEqualTo(NodeMembership.MEMBER);
        assertThat(nodesRunning("db")).hasSize(1);
        assertThat(sent).filteredOn(a -> a.intervalMillis() == 0 && a.operation().equals("monitor")).hasSize(2);
        assertThat(sent).filteredOn(a -> a.operation().equals("start")).hasSize(1);
        ActionRequest monitor = sent.stream().filter(a -> a.intervalMillis() == 10_000).findFirst().orElseThrow();
        assertThat(monitor.node()).isEqualTo(nodesRunning("db").get(0));
        assertThat(monitor.timeoutMillis()).isEqualTo(20_000);
        assertThat(tick().idle()).isTrue();
    }

    @Test
    void withoutFencingALostNodesResourceMovesOnlyAfterItsLeaseExpired() {
        cluster(DB, "n1", "n2");
        runFor(2_000);
        String first = nodesRunning("db").get(0);
        String other = first.equals("n1") ? "n2" : "n1";

        // The node dies: it stops heartbeating, and (lease) its resources stop with it.
        alive.remove(first);
        long diedAt = now;
        running.get(first).clear();
        while (state.nodeStatus(first).membership() != NodeMembership.DOWN) {
            tick();
            assertThat(running.get(other)).as("nothing starts before the lease expired").doesNotContain("db");
            now += 100;
        }
        assertThat(now - diedAt).isGreaterThanOrEqualTo(SETTINGS.leaseMillis() + SETTINGS.leaseMarginMillis());
        runFor(1_000);

        assertThat(nodesRunning("db")).containsExactly(other);
    }

    @Test
    void whatARemovedNodeMayStillRunStartsElsewhereOnlyOnceItsLeaseRanOut() {
        // The API refuses to remove a node the status shows running something, but a start sent to it
        // just before the check completes after it, unrecorded: the state refuses a removed node's reports.
        cluster(DB, "n1", "n2", "n3");
        runFor(2_000);
        String removed = nodesRunning("db").get(0);
        apply(new Command.RemoveNode(removed)); // its history goes with it: db runs nowhere, says the state
        long lastAck = acked.get(removed);

        // Its heartbeats are no longer acknowledged, so it stops what it runs when its lease runs out.
        Set<String> waiting = runUntilLeaseAndMarginSince(lastAck, removed, lastAck);

        assertThat(waiting).anyMatch(line -> line.contains("start db") && line.contains("lease of removed node " + removed));
        assertThat(nodesRunning("db")).hasSize(1).doesNotContain(removed);
    }

    @Test
    void aLeaderElectedJustAfterARemovalStartsNothingUntilALeaseHasPassedSinceItTookOver() {
        cluster(DB, "n1", "n2", "n3");
        runFor(2_000);
        String removed = nodesRunning("db").get(0);
        apply(new Command.RemoveNode(removed));
        long lastAck = acked.get(removed);

        // Another server takes over: it never acknowledged the removed node, and cannot know when its
        // predecessor last did, so it counts the lease from when it took over.
        now += 100;
        leaderSince = now;
        acked.clear();
        Set<String> waiting = runUntilLeaseAndMarginSince(leaderSince, removed, lastAck);

        assertThat(waiting).anyMatch(line -> line.contains("start db") && line.contains("lease of removed node " + removed));
        assertThat(nodesRunning("db")).hasSize(1).doesNotContain(removed);
        ResourceStatusView view = (ResourceStatusView) state.query(new Query.ResourceStatus());
        assertThat(view.removedNodesInLease()).as("the next leader need not wait for it").isEmpty();
    }

    /**
     * Ticks until lease and margin have passed since {@code from}, then a second more, checking that
     * nothing runs twice; the removed node stops what it runs once its lease from {@code lastAck} is
     * over. Returns every action the leader held, and why.
     */
    private Set<String> runUntilLeaseAndMarginSince(long from, String removed, long lastAck) {
        Set<String> waiting = new TreeSet<>();
        while (now - from < SETTINGS.leaseMillis() + SETTINGS.leaseMarginMillis()) {
            if (now - lastAck >= SETTINGS.leaseMillis()) {
                running.get(removed).clear();
            }
            waiting.addAll(tick().waiting());
            assertNeverTwice();
            now += 100;
        }
        runFor(1_000);
        return waiting;
    }

    @Test
    void withFencingALostNodeIsFencedBeforeItsResourcesStartElsewhere() {
        cluster(DB + FENCE, "n1", "n2", "n3");
        runFor(2_000);
        String first = nodesRunning("db").get(0);

        alive.remove(first);
        runFor(SETTINGS.nodeLostAfterMillis() + 500);
        assertThat(state.nodeStatus(first).membership()).isEqualTo(NodeMembership.LOST);
        assertThat(fenceRequests).extracting(FenceRequest::target).contains(first);
        assertThat(fenceRequests.get(0).levels()).hasSize(1);
        assertThat(fenceRequests.get(0).levels().get(0).get(0).id()).isEqualTo("fence-lab");
        runFor(5_000);
        assertThat(nodesRunning("db")).as("still only on the lost node until it is fenced").containsExactly(first);

        apply(new Command.RecordFencing(new FencingEvent(first, false, "fence-lab: timed out", now)));
        runFor(1_000);
        assertThat(nodesRunning("db")).containsExactly(first);

        running.get(first).clear(); // a fenced node runs nothing
        apply(new Command.RecordFencing(new FencingEvent(first, true, "fence-lab", now)));
        runFor(1_000);

        assertThat(nodesRunning("db")).hasSize(1).doesNotContain(first);
    }

    @Test
    void aLostNodeThatHasRebootedSinceIsDownWithoutAnotherFence() {
        String first = theNodeRunningDbIsLost();
        assertThat(state.nodeStatus(first).bootId()).isEqualTo(first + "-boot-1");

        // Its fence rebooted it, but the result was never recorded (the leader lost its majority).
        reboot(first);
        alive.add(first);
        int fencesBefore = fenceRequests.size();
        tick();

        assertThat(state.nodeStatus(first).membership()).isEqualTo(NodeMembership.DOWN);
        assertThat(state.nodeStatus(first).membershipReason()).contains("rebooted since it was lost");
        runFor(2_000);
        assertThat(fenceRequests).hasSize(fencesBefore);
        assertBackAsAMemberAfterItsReboot(first);
    }

    @Test
    void aMemberThatRebootedBeforeItWasFoundLostIsDownThenAMemberWithItsNewBootId() {
        cluster(DB + FENCE, "n1", "n2", "n3");
        runFor(2_000);
        String first = nodesRunning("db").get(0);

        reboot(first); // a quick one: it never missed enough heartbeats to be lost
        tick();
        assertThat(state.nodeStatus(first).membership()).isEqualTo(NodeMembership.DOWN);
        assertThat(state.nodeStatus(first).resources()).as("nothing survives a reboot").isEmpty();
        runFor(2_000);

        assertBackAsAMemberAfterItsReboot(first);
    }

    @Test
    void aLostNodeThatComesBackWithoutARebootIsStillFenced() {
        String first = theNodeRunningDbIsLost();

        alive.add(first); // same boot: its processes may still run
        int fencesBefore = fenceRequests.size();
        runFor(3_000);

        assertThat(state.nodeStatus(first).membership()).isEqualTo(NodeMembership.LOST);
        assertThat(fenceRequests.size()).isGreaterThan(fencesBefore);
        assertThat(nodesRunning("db")).containsExactly(first);
    }

    @Test
    void aNewLeaderWaitsOneNodeLostPeriodBeforeFencingANodeLostEarlier() {
        cluster(DB + FENCE, "n1", "n2", "n3");
        runFor(2_000);
        alive.remove("n3");
        runFor(SETTINGS.nodeLostAfterMillis() + 500);
        assertThat(state.nodeStatus("n3").membership()).isEqualTo(NodeMembership.LOST);

        leaderSince = now; // another server takes over, knowing nothing of the fences asked so far
        acked.clear();
        fenceRequests.clear();
        runFor(SETTINGS.nodeLostAfterMillis() - 100);
        assertThat(fenceRequests).as("a rebooted node gets its chance to say so first").isEmpty();
        runFor(500);
        assertThat(fenceRequests).extracting(FenceRequest::target).contains("n3");
    }

    @Test
    void theNodeOfALeaderThatDiedIsLostOnePeriodAfterItsLastMessageNotAnElectionLater() {
        cluster(DB + FENCE, "n1", "n2", "n3");
        runFor(2_000);
        String first = nodesRunning("db").get(0);

        // The server on that node led; it dies, and another server is elected 1.2 s later.
        alive.remove(first);
        running.get(first).clear();
        long diedAt = now;
        now += 1_200;
        leaderSince = now;
        acked.clear();
        previousLeader = new Coordinator.PreviousLeader(first, diedAt);
        while (state.nodeStatus(first).membership() == NodeMembership.MEMBER) {
            tick();
            now += 100;
        }

        assertThat(now - diedAt).as("lost one period after its last message").isLessThan(SETTINGS.nodeLostAfterMillis() + 300);
        tick();
        assertThat(fenceRequests).as("and fenced at once").extracting(FenceRequest::target).containsExactly(first);
        assertThat(state.nodeStatus("n1".equals(first) ? "n2" : "n1").membership())
            .as("the others get a full period to find the new leader").isEqualTo(NodeMembership.MEMBER);
    }

    @Test
    void aResourceDeletedWhileRunningIsStoppedWithTheAgentFromItsHistory() {
        cluster(DB, "n1", "n2");
        runFor(2_000);
        String node = nodesRunning("db").get(0);

        config = CrmShell.parse("primitive other ocf:heartbeat:Dummy\n");
        runFor(2_000);

        assertThat(nodesRunning("db")).as("the orphan is stopped").isEmpty();
        ActionRequest stop = sent.stream().filter(a -> a.resource().equals("db") && a.operation().equals("stop"))
            .findFirst().orElseThrow();
        assertThat(stop.node()).isEqualTo(node);
        assertThat(stop.agent()).isEqualTo("ocf:heartbeat:Dummy");
    }

    @Test
    void aCloneWithNotificationsStartsEverywhereAndItsNotificationsPassLikePseudoActions() {
        cluster("primitive web ocf:heartbeat:Dummy op monitor interval=10s timeout=20s\n"
            + "clone web-clone web meta notify=true\n", "n1", "n2", "n3");
        boolean planned = false;
        for (long end = now + 3_000; now < end; now += 100) {
            Decisions decisions = tick();
            planned |= decisions.transition() != null && decisions.transition().actions().stream()
                .anyMatch(a -> a.task().equals("notify"));
        }

        assertThat(planned).as("the plans held notify actions").isTrue();
        assertThat(nodesRunning("web")).containsExactly("n1", "n2", "n3");
        assertThat(sent).as("notifications are not delivered to agents yet").noneMatch(a -> a.operation().equals("notify"));
        assertThat(tick().idle()).isTrue();
    }

    @Test
    void aCloneWithNotificationsTellsItsInstancesBeforeAndAfterEachPhase() {
        notifications = new NotificationMemory();
        String clone = "primitive web ocf:heartbeat:Dummy op monitor interval=10s timeout=20s\n"
            + "clone web-clone web meta notify=true\n";
        cluster(clone, "n1", "n2", "n3");
        runFor(3_000);

        assertThat(nodesRunning("web")).containsExactly("n1", "n2", "n3");
        int lastStart = lastIndexOf("start", "web", null);
        List<ActionRequest> afterStarts = notificationsSent(0);
        assertThat(afterStarts).as("post-start notifications, one per instance, after the starts").hasSize(3)
            .allMatch(n -> sent.indexOf(n) > lastStart)
            .allMatch(n -> n.params().get("CRM_meta_notify_type").equals("post")
                && n.params().get("CRM_meta_notify_operation").equals("start"));
        assertThat(afterStarts.get(0).params().get("CRM_meta_notify_start_uname").trim().split(" "))
            .containsExactlyInAnyOrder("n1", "n2", "n3");
        assertThat(tick().idle()).isTrue();

        int before = sent.size();
        config = CrmShell.parse(clone + "location no-n3 web-clone -inf: n3\n");
        runFor(3_000);

        assertThat(nodesRunning("web")).containsExactly("n1", "n2");
        int stop = lastIndexOf("stop", "web", "n3");
        List<ActionRequest> aroundStop = notificationsSent(before);
        assertThat(aroundStop).filteredOn(n -> sent.indexOf(n) < stop).as("pre-stop notifications to every instance")
            .hasSize(3).allMatch(n -> n.params().get("CRM_meta_notify_type").equals("pre")
                && n.params().get("CRM_meta_notify_stop_uname").trim().equals("n3"));
        assertThat(aroundStop).filteredOn(n -> sent.indexOf(n) > stop).as("post-stop notifications to those left")
            .extracting(ActionRequest::node).containsExactlyInAnyOrder("n1", "n2");
        assertThat(tick().idle()).isTrue();
    }

    private List<ActionRequest> notificationsSent(int from) {
        return sent.subList(from, sent.size()).stream().filter(a -> a.operation().equals("notify")).toList();
    }

    private int lastIndexOf(String operation, String resource, String node) {
        for (int i = sent.size() - 1; i >= 0; i--) {
            ActionRequest a = sent.get(i);
            if (a.operation().equals(operation) && a.resource().equals(resource) && (node == null || a.node().equals(node))) {
                return i;
            }
        }
        throw new AssertionError("no " + operation + " of " + resource + " was sent");
    }

    @Test
    void aFailedMonitorRecoversTheResourceInPlace() {
        cluster(DB, "n1", "n2");
        runFor(2_000);
        String first = nodesRunning("db").get(0);

        running.get(first).remove("db");
        apply(new Command.RecordOperations(first, List.of(new OperationRecord("db", "ocf:heartbeat:Dummy", "monitor",
            10_000, 7, 0, 0, ++callId, now, 5, "not running"))));
        runFor(1_000);

        assertThat(nodesRunning("db")).containsExactly(first);
        assertThat(state.nodeStatus(first).resources().get("db").failCounts()).containsEntry("monitor_10000", 1);
        assertThat(sent.subList(sent.size() - 3, sent.size())).extracting(ActionRequest::operation)
            .containsExactly("stop", "start", "monitor");
    }

    @Test
    void aNodeThatComesBackAfterItsLeaseRejoinsAndProbes() {
        cluster(DB, "n1", "n2");
        runFor(2_000);
        alive.remove("n2");
        runFor(SETTINGS.nodeLostAfterMillis() + SETTINGS.leaseMillis() + SETTINGS.leaseMarginMillis());
        assertThat(state.nodeStatus("n2").membership()).isEqualTo(NodeMembership.DOWN);

        alive.add("n2");
        int before = sent.size();
        runFor(1_000);

        assertThat(state.nodeStatus("n2").membership()).isEqualTo(NodeMembership.MEMBER);
        assertThat(sent.subList(before, sent.size())).anySatisfy(a -> {
            assertThat(a.node()).isEqualTo("n2");
            assertThat(a.operation()).isEqualTo("monitor");
            assertThat(a.intervalMillis()).isZero();
        });
    }
}
