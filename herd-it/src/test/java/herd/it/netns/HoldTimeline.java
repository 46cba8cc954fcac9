package herd.it.netns;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who held an address when, reconstructed from periodic samples. Pure: the samples come in, the
 * answers come out.
 *
 * <p>Between two samples of a server we cannot tell when its address came or went, so questions
 * about safety ("did two servers hold it at once?") are answered pessimistically: a server may have
 * held the address from the sample before it was first seen holding until the first sample that
 * saw it gone ({@link #possibleHolds}). Times are milliseconds on one clock, e.g. since the
 * sampling started.
 */
public final class HoldTimeline {
    /** One look at one server: at {@code atMillis} it did or did not hold the address. */
    public record Observation(int server, long atMillis, boolean holds) {}

    /** The server may have held the address at any instant from {@code fromMillis} to {@code toMillis}. */
    public record Interval(int server, long fromMillis, long toMillis) {
        public long lengthMillis() {
            return toMillis - fromMillis;
        }
    }

    /** Servers {@code first} and {@code second} may both have held the address from {@code fromMillis} to {@code toMillis}. */
    public record Overlap(int first, int second, long fromMillis, long toMillis) {
        public long lengthMillis() {
            return toMillis - fromMillis;
        }
    }

    private final List<Observation> observations;

    public HoldTimeline(List<Observation> observations) {
        this.observations = observations.stream().sorted(Comparator.comparingLong(Observation::atMillis)).toList();
    }

    public List<Observation> observations() {
        return observations;
    }

    public Set<Integer> servers() {
        Set<Integer> servers = new TreeSet<>();
        observations.forEach(o -> servers.add(o.server()));
        return servers;
    }

    /** The servers whose latest sample holds the address. */
    public Set<Integer> holdersAtEnd() {
        Set<Integer> holders = new TreeSet<>();
        for (int server : servers()) {
            latest(server).filter(Observation::holds).ifPresent(o -> holders.add(server));
        }
        return holders;
    }

    /** The time of the first sample at or after {@code fromMillis} that found {@code server} without the address. */
    public OptionalLong firstSeenWithout(int server, long fromMillis) {
        return observations.stream()
            .filter(o -> o.server() == server && o.atMillis() >= fromMillis && !o.holds())
            .mapToLong(Observation::atMillis).findFirst();
    }

    /** The time of the first sample at or after {@code fromMillis} that found {@code server} holding the address. */
    public OptionalLong firstSeenHeldBy(int server, long fromMillis) {
        return observations.stream()
            .filter(o -> o.server() == server && o.atMillis() >= fromMillis && o.holds())
            .mapToLong(Observation::atMillis).findFirst();
    }

    /** The first sample at or after {@code fromMillis} that found a server other than {@code server} holding the address. */
    public Optional<Observation> firstSeenHeldByOtherThan(int server, long fromMillis) {
        return observations.stream()
            .filter(o -> o.server() != server && o.atMillis() >= fromMillis && o.holds())
            .findFirst();
    }

    /**
     * How long, up to the last sample, every sample has found the same single server holding the
     * address and every other server without it; 0 when the last samples disagree.
     */
    public long lastSingleHolderStreakMillis() {
        if (observations.isEmpty()) {
            return 0;
        }
        long end = observations.get(observations.size() - 1).atMillis();
        Set<Integer> holders = holdersAtEnd();
        if (holders.size() != 1) {
            return 0;
        }
        int holder = holders.iterator().next();
        long streakStart = end;
        for (int i = observations.size() - 1; i >= 0; i--) {
            Observation o = observations.get(i);
            if (o.holds() != (o.server() == holder)) {
                break;
            }
            streakStart = o.atMillis();
        }
        return end - streakStart;
    }

    /**
     * The pessimistic hold intervals of {@code server}: each starts at the last sample that saw it
     * without the address (or at its first sample) and ends at the first sample that saw it without
     * the address again (or at the last sample of the timeline, if it still holds it).
     */
    public List<Interval> possibleHolds(int server) {
        List<Interval> intervals = new ArrayList<>();
        long end = observations.isEmpty() ? 0 : observations.get(observations.size() - 1).atMillis();
        Long lastSeenWithout = null;
        Long holdingSince = null;
        for (Observation o : observations) {
            if (o.server() != server) {
                continue;
            }
            if (o.holds() && holdingSince == null) {
                holdingSince = lastSeenWithout != null ? lastSeenWithout : o.atMillis();
            } else if (!o.holds()) {
                if (holdingSince != null) {
                    intervals.add(new Interval(server, holdingSince, o.atMillis()));
                    holdingSince = null;
                }
                lastSeenWithout = o.atMillis();
            }
        }
        if (holdingSince != null) {
            intervals.add(new Interval(server, holdingSince, end));
        }
        return intervals;
    }

    /** The longest stretch during which two servers may both have held the address; empty when there was none. */
    public Optional<Overlap> longestPossibleOverlap() {
        List<Interval> all = new ArrayList<>();
        servers().forEach(server -> all.addAll(possibleHolds(server)));
        Overlap longest = null;
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Interval a = all.get(i);
                Interval b = all.get(j);
                long from = Math.max(a.fromMillis(), b.fromMillis());
                long to = Math.min(a.toMillis(), b.toMillis());
                if (a.server() != b.server() && to > from && (longest == null || to - from > longest.lengthMillis())) {
                    longest = new Overlap(a.server(), b.server(), from, to);
                }
            }
        }
        return Optional.ofNullable(longest);
    }

    /** The observations that differ from the one before of the same server (and each server's first): who changed when. */
    public List<Observation> changes() {
        Map<Integer, Boolean> state = new HashMap<>();
        List<Observation> changes = new ArrayList<>();
        for (Observation o : observations) {
            Boolean before = state.put(o.server(), o.holds());
            if (before == null || before != o.holds()) {
                changes.add(o);
            }
        }
        return changes;
    }

    /** The mean time between two samples of the same server. */
    public double meanSamplePeriodMillis() {
        long gaps = 0;
        long total = 0;
        for (int server : servers()) {
            List<Observation> own = observations.stream().filter(o -> o.server() == server).toList();
            for (int i = 1; i < own.size(); i++) {
                total += own.get(i).atMillis() - own.get(i - 1).atMillis();
                gaps++;
            }
        }
        return gaps == 0 ? 0 : (double) total / gaps;
    }

    private Optional<Observation> latest(int server) {
        for (int i = observations.size() - 1; i >= 0; i--) {
            if (observations.get(i).server() == server) {
                return Optional.of(observations.get(i));
            }
        }
        return Optional.empty();
    }
}
