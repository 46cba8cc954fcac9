package herd.sim;

import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who can reach whom, and how long a message takes. Links are FIFO, like the TCP connections the
 * real nodes use; a message is delivered only if the link is up both when it is sent and when it
 * arrives.
 */
final class Network {
    static final long DELAY_MIN_MILLIS = 1;
    static final long DELAY_MAX_MILLIS = 30;

    private final TreeSet<String> isolated = new TreeSet<>();
    private final TreeMap<String, Long> lastDeliveryByLink = new TreeMap<>();

    boolean connected(String from, String to) {
        return isolated.contains(from) == isolated.contains(to);
    }

    /** When a message sent now from {@code from} to {@code to} arrives: never before an earlier one. */
    long deliveryMillis(String from, String to, long nowMillis, Random random) {
        long at = nowMillis + DELAY_MIN_MILLIS + random.nextLong(DELAY_MAX_MILLIS - DELAY_MIN_MILLIS + 1);
        String link = from + ">" + to;
        long delivery = Math.max(at, lastDeliveryByLink.getOrDefault(link, 0L));
        lastDeliveryByLink.put(link, delivery);
        return delivery;
    }

    void partition(List<String> side) {
        isolated.clear();
        isolated.addAll(side);
    }

    void heal() {
        isolated.clear();
    }

    boolean partitioned() {
        return !isolated.isEmpty();
    }

    @Override
    public String toString() {
        return isolated.isEmpty() ? "whole" : "cut off: " + isolated;
    }
}
