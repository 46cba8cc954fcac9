package herd.sim;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * The simulated clock's agenda: events in time order, and events at the same millisecond in the
 * order they were scheduled, so a run never depends on anything but its seed.
 */
final class EventQueue {
    /** A run that schedules more than this is looping: it fails loudly instead of running forever. */
    static final long MAX_EVENTS_PER_RUN = 5_000_000;

    record Event(long atMillis, long sequence, String label, Runnable action) {}

    private final PriorityQueue<Event> events = new PriorityQueue<>(
        Comparator.comparingLong(Event::atMillis).thenComparingLong(Event::sequence));
    private long nextSequence;

    void schedule(long atMillis, String label, Runnable action) {
        if (nextSequence >= MAX_EVENTS_PER_RUN) {
            throw new IllegalStateException("more than " + MAX_EVENTS_PER_RUN + " events scheduled: the simulation loops");
        }
        events.add(new Event(atMillis, nextSequence++, label, action));
    }

    Event poll() {
        return events.poll();
    }

    boolean isEmpty() {
        return events.isEmpty();
    }
}
