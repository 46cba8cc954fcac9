package herd.coordinator;

import herd.scheduler.Transition;
import herd.scheduler.Transition.Action;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.zip.CRC32;

/**
 * Delivers the scheduler's clone notifications (notify actions of clones with notify=true) within
 * herd's way of coordinating, where the transition is computed again from the cluster state after
 * every result and a notification changes nothing in that state:
 * <ul>
 *   <li>a <b>pre</b>-notification is sent while its phase is planned, and counts as given once its
 *       node answered (kept in the leader's {@link NotificationMemory}), which lets the phase go on;</li>
 *   <li>the <b>post</b>-notifications of a phase are taken from the plan when the phase's first action
 *       is sent (they would be gone from the next plan once the phase is done), owed, and sent once no
 *       action of that phase is planned or running any more; meanwhile the clone's next phase waits;</li>
 *   <li>a node that is not heartbeating is not told (it is not counted as waiting either).</li>
 * </ul>
 * Without a memory (tests of the scheduler's plan, or a leader that does not deliver them), notify
 * actions pass like pseudo actions once what comes before them is done.
 */
final class CloneNotifications {
    /** The operations a clone's phases are made of; their post-notifications name them. */
    private static final Set<String> PHASES = Set.of("start", "stop", "promote", "demote");

    private final Coordinator.Input in;
    private final Transition transition;
    private final NotificationMemory memory;
    /** Keys of the notifications the plan holds now: answers to others can be forgotten. */
    private final List<String> planned = new ArrayList<>();
    /** Clones (by primitive id) whose owed post-notifications go now: their next phase waits for them. */
    private final Set<String> owingNow = new HashSet<>();
    private final List<ActionRequest> owedToSend = new ArrayList<>();

    CloneNotifications(Coordinator.Input in, Transition transition, NotificationMemory memory) {
        this.in = in;
        this.transition = transition;
        this.memory = memory;
        if (memory != null) {
            collectOwedPostNotifications();
        }
    }

    static boolean isNotification(Action action) {
        return !action.pseudo() && "notify".equals(action.task());
    }

    /**
     * True when the action no longer holds up what follows it (once its own predecessors are done):
     * a pseudo action, or a notification given, owed, or not delivered at all.
     */
    boolean passes(Action action) {
        if (action.pseudo()) {
            return true;
        }
        if (!isNotification(action)) {
            return false;
        }
        Optional<ActionRequest> request = request(action);
        request.ifPresent(r -> planned.add(r.key()));
        return memory == null || request.isEmpty() || isPost(action) || !Coordinator.reachable(in, action.node())
            || memory.wasAnswered(request.get().key());
    }

    /** The request for a pre-notification that has to be sent (its predecessors are done), if any. */
    Optional<ActionRequest> toSend(Action notification) {
        return memory == null || isPost(notification) ? Optional.empty() : request(notification);
    }

    /** Whether the clone of this action waits for post-notifications that go now. */
    boolean waitsForPostNotifications(Action action) {
        return action.resource() != null && owingNow.contains(primitiveOf(action.resource()));
    }

    /** A phase's action is being sent: the phase's post-notifications, as planned now, are owed. */
    void phaseBegins(Action sent) {
        if (memory == null || !PHASES.contains(sent.task())) {
            return;
        }
        String clone = primitiveOf(sent.resource());
        for (Action action : transition.actions()) {
            if (isNotification(action) && isPost(action) && sent.task().equals(action.meta().get("notify_operation"))
                && clone.equals(primitiveOf(action.resource()))) {
                request(action).ifPresent(memory::owe);
            }
        }
    }

    /** The owed post-notifications whose phase is over, to send now. */
    List<ActionRequest> owedToSend() {
        return owedToSend;
    }

    /** Forgets the answers to notifications the plan no longer holds (call after every action was seen). */
    void forgetUnplanned() {
        if (memory != null) {
            memory.retainAnswers(planned);
        }
    }

    private void collectOwedPostNotifications() {
        for (ActionRequest owed : memory.owed()) {
            String clone = primitiveOf(owed.resource());
            String phase = owed.params().getOrDefault("CRM_meta_notify_operation", "");
            if (phaseGoesOn(clone, phase)) {
                continue;
            }
            if (!Coordinator.reachable(in, owed.node())) {
                memory.forgive(owed.key());
                continue;
            }
            owingNow.add(clone);
            if (!in.actionsInFlight().contains(owed.key())) {
                owedToSend.add(owed);
            }
        }
    }

    /** An action of the clone's phase is still planned, or still running on a node. */
    private boolean phaseGoesOn(String clone, String phase) {
        Predicate<Action> ofPhase = a -> !a.pseudo() && phase.equals(a.task()) && a.resource() != null
            && clone.equals(primitiveOf(a.resource()));
        if (transition.actions().stream().anyMatch(ofPhase)) {
            return true;
        }
        String suffix = "_" + phase + "_0";
        return in.actionsInFlight().stream().filter(key -> key.endsWith(suffix)).anyMatch(key ->
            clone.equals(primitiveOf(key.substring(key.indexOf('/') + 1, key.length() - suffix.length()))));
    }

    /**
     * The request for a notify action: operation notify, the notification data as CRM_meta_notify_*
     * parameters (OCF_RESKEY_CRM_meta_notify_* for the agent), and a key that names this very
     * notification, so that an answer counts only for it.
     */
    private Optional<ActionRequest> request(Action notification) {
        String resource = Coordinator.executorId(in.config(), notification.resource());
        String key = ActionRequest.keyOf(notification.node(), resource, "notify-" + digest(notification.meta()), 0);
        return Coordinator.primitive(in.config(), notification.resource()).map(primitive -> {
            Map<String, String> params = new java.util.LinkedHashMap<>(primitive.params());
            notification.meta().forEach((name, value) -> params.put("CRM_meta_" + name, value));
            return new ActionRequest(key, notification.node(), resource, primitive.agent(), "notify", 0,
                Coordinator.timeoutMillis(in.config(), primitive, "notify", 0), 0, params);
        });
    }

    private static boolean isPost(Action notification) {
        return "post".equals(notification.meta().get("notify_type"));
    }

    /** The clone's primitive, which names its instances ("web:2" and an anonymous copy's "web"). */
    private static String primitiveOf(String resource) {
        return resource.replaceFirst(":\\d+$", "");
    }

    private static String digest(Map<String, String> meta) {
        CRC32 crc = new CRC32();
        crc.update(new java.util.TreeMap<>(meta).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Long.toHexString(crc.getValue());
    }
}
