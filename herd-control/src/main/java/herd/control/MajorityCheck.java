package herd.control;

import java.util.Collection;
import java.util.Map;

/** Pure: does a leader still hear from a majority of every configuration it must answer to? */
final class MajorityCheck {
    private MajorityCheck() { }

    /**
     * @param voters          voting members of the current configuration
     * @param previousVoters  voting members of the old configuration while a change is in
     *                        progress, else empty
     * @param ackAgeMillis    per follower, the time since the leader last heard from it; a
     *                        follower that is missing has never answered
     * @param self            the leader, which always counts for itself
     * @param boundMillis     answers older than this do not count
     */
    static boolean hasRecentMajority(Collection<String> voters, Collection<String> previousVoters,
                                     Map<String, Long> ackAgeMillis, String self, long boundMillis) {
        return majority(voters, ackAgeMillis, self, boundMillis)
                && (previousVoters.isEmpty() || majority(previousVoters, ackAgeMillis, self, boundMillis));
    }

    private static boolean majority(Collection<String> voters, Map<String, Long> ackAgeMillis, String self,
                                    long boundMillis) {
        final long heard = voters.stream()
                .filter(v -> v.equals(self) || ackAgeMillis.getOrDefault(v, Long.MAX_VALUE) <= boundMillis)
                .count();
        return heard > voters.size() / 2;
    }
}
