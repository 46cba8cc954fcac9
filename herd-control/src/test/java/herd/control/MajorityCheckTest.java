package herd.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MajorityCheckTest {
    private static final List<String> THREE = List.of("a", "b", "c");

    @Test
    void aLeaderWithOneRecentFollowerOfThreeHasAMajority() {
        assertThat(MajorityCheck.hasRecentMajority(THREE, List.of(), Map.of("b", 100L, "c", 5000L), "a", 750)).isTrue();
    }

    @Test
    void aLeaderWhoseFollowersAreAllLateHasNone() {
        assertThat(MajorityCheck.hasRecentMajority(THREE, List.of(), Map.of("b", 751L, "c", 5000L), "a", 750)).isFalse();
        assertThat(MajorityCheck.hasRecentMajority(THREE, List.of(), Map.of(), "a", 750)).isFalse();
    }

    @Test
    void aSingleServerAlwaysHasItsMajority() {
        assertThat(MajorityCheck.hasRecentMajority(List.of("a"), List.of(), Map.of(), "a", 750)).isTrue();
    }

    @Test
    void duringAChangeBothConfigurationsNeedAMajority() {
        final Map<String, Long> ages = Map.of("b", 10L, "c", 9000L, "d", 9000L);
        // old {a,b,c}: a+b is a majority; new {a,b,c,d}: a+b is not.
        assertThat(MajorityCheck.hasRecentMajority(List.of("a", "b", "c", "d"), THREE, ages, "a", 750)).isFalse();
        assertThat(MajorityCheck.hasRecentMajority(THREE, List.of("a", "b", "c", "d"), ages, "a", 750)).isFalse();
        assertThat(MajorityCheck.hasRecentMajority(THREE, List.of(), ages, "a", 750)).isTrue();
    }
}
