package herd.coordinator;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the leader remembers of clone notifications from one decision to the next. A notification
 * leaves nothing in the cluster state (Pacemaker does not record them either), and the coordinator
 * computes the transition again from that state after every result: so the notifications the nodes
 * answered, and the post-notifications a phase that has begun still owes its clone, are kept here.
 * A new leader starts with an empty memory, as a new Pacemaker DC does: pre-notifications of a phase
 * that has not begun are given again, post-notifications of an interrupted phase are lost.
 *
 * <p>Answers arrive on the threads that called the nodes; decisions read and update the memory on
 * the leader's own thread.
 */
public final class NotificationMemory {
    /** Keys of notify requests that a node answered (whatever the agent's exit code). */
    private final Set<String> answered = ConcurrentHashMap.newKeySet();
    /** Post-notifications owed, by key: sent once the clone's phase is done, forgotten once answered. */
    private final Map<String, ActionRequest> owed = new ConcurrentHashMap<>();

    /** A node answered this notify request. */
    public void answered(String key) {
        answered.add(key);
    }

    boolean wasAnswered(String key) {
        return answered.contains(key);
    }

    void owe(ActionRequest postNotification) {
        if (!answered.contains(postNotification.key())) {
            owed.putIfAbsent(postNotification.key(), postNotification);
        }
    }

    /** The post-notifications still owed, without those answered meanwhile. */
    List<ActionRequest> owed() {
        owed.keySet().removeIf(answered::contains);
        return List.copyOf(owed.values());
    }

    void forgive(String key) {
        owed.remove(key);
    }

    /** Forgets answers nobody will ask about again: neither in the current plan nor owed. */
    void retainAnswers(Collection<String> stillPlanned) {
        answered.removeIf(key -> !stillPlanned.contains(key) && !owed.containsKey(key));
    }
}
