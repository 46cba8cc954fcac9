package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How probe outcomes make a node unreachable and reachable again. */
class ReachabilityTest {
    private final Reachability reachability = new Reachability();

    @Test
    void aNodeIsUnreachableAfterThreeFailedProbesInARowAndReachedAfterThreeAnswers() {
        assertThat(reachability.record("s2", false)).isEqualTo(Reachability.Change.SAME);
        assertThat(reachability.record("s2", false)).isEqualTo(Reachability.Change.SAME);
        assertThat(reachability.unreachable()).isEmpty();
        assertThat(reachability.record("s2", false)).isEqualTo(Reachability.Change.LOST);
        assertThat(reachability.unreachable()).containsExactly("s2");

        reachability.record("s2", true);
        reachability.record("s2", true);
        assertThat(reachability.unreachable()).as("two answers are not enough").containsExactly("s2");
        assertThat(reachability.record("s2", true)).isEqualTo(Reachability.Change.FOUND);
        assertThat(reachability.unreachable()).isEmpty();
    }

    @Test
    void anOutcomeThatAgreesWithTheStandingStartsTheCountAgain() {
        reachability.record("s2", false);
        reachability.record("s2", false);
        reachability.record("s2", true); // one lucky answer
        reachability.record("s2", false);
        reachability.record("s2", false);
        assertThat(reachability.unreachable()).isEmpty();
        assertThat(reachability.record("s2", false)).isEqualTo(Reachability.Change.LOST);
    }

    @Test
    void nodesNoLongerWatchedAreForgotten() {
        for (int i = 0; i < 3; i++) {
            reachability.record("s2", false);
            reachability.record("s3", false);
        }
        assertThat(reachability.unreachable()).containsExactly("s2", "s3");
        reachability.retain(List.of("s3"));
        assertThat(reachability.unreachable()).containsExactly("s3");
    }
}
