package herd.it.netns;

import static org.assertj.core.api.Assertions.assertThat;

import herd.it.netns.HoldTimeline.Interval;
import herd.it.netns.HoldTimeline.Observation;
import herd.it.netns.HoldTimeline.Overlap;
import java.util.List;
import org.junit.jupiter.api.Test;

class HoldTimelineTest {
    private static Observation held(int server, long at) {
        return new Observation(server, at, true);
    }

    private static Observation free(int server, long at) {
        return new Observation(server, at, false);
    }

    @Test
    void aHoldMayHaveStartedRightAfterTheLastSampleWithoutItAndLastedUntilTheFirstSampleWithoutIt() {
        HoldTimeline timeline = new HoldTimeline(List.of(free(1, 0), free(1, 25), held(1, 50), held(1, 75),
            free(1, 100), free(1, 125)));

        assertThat(timeline.possibleHolds(1)).containsExactly(new Interval(1, 25, 100));
    }

    @Test
    void aHoldStillOnAtTheEndLastsUntilTheLastSampleOfAnyServer() {
        HoldTimeline timeline = new HoldTimeline(List.of(held(1, 10), free(2, 20), held(1, 30), free(2, 40)));

        assertThat(timeline.possibleHolds(1)).containsExactly(new Interval(1, 10, 40));
        assertThat(timeline.holdersAtEnd()).containsExactly(1);
    }

    @Test
    void aCleanHandOverHasNoOverlap() {
        HoldTimeline timeline = new HoldTimeline(List.of(held(1, 0), free(2, 5), free(1, 100), free(2, 105),
            free(1, 200), held(2, 205), free(1, 300), held(2, 305)));

        assertThat(timeline.longestPossibleOverlap()).isEmpty();
        assertThat(timeline.firstSeenWithout(1, 50)).hasValue(100);
        assertThat(timeline.firstSeenHeldByOtherThan(1, 50)).contains(held(2, 205));
        assertThat(timeline.holdersAtEnd()).containsExactly(2);
    }

    @Test
    void twoServersSeenHoldingAtOnceOverlapPessimistically() {
        // s2 was last seen without it at 105 and s1 first seen without it at 300: both may have held it in between.
        HoldTimeline timeline = new HoldTimeline(List.of(held(1, 0), free(2, 5), held(1, 100), free(2, 105),
            held(1, 200), held(2, 205), free(1, 300), held(2, 305)));

        assertThat(timeline.longestPossibleOverlap()).contains(new Overlap(1, 2, 105, 300));
    }

    @Test
    void samplesNeedNotArriveInTimeOrder() {
        HoldTimeline timeline = new HoldTimeline(List.of(free(1, 100), held(1, 50), free(1, 0)));

        assertThat(timeline.possibleHolds(1)).containsExactly(new Interval(1, 0, 100));
    }

    @Test
    void anAdditionEventEndsTheUncertaintyAtItsOwnTime() {
        // The monitor reports an addition as "without just before, with from now on" at one instant.
        HoldTimeline timeline = new HoldTimeline(List.of(free(2, 0), free(2, 500), held(2, 500), held(1, 0),
            free(1, 400)));

        assertThat(timeline.possibleHolds(2)).containsExactly(new Interval(2, 500, 500));
        assertThat(timeline.longestPossibleOverlap()).isEmpty();
    }

    @Test
    void aSingleHolderStreakCountsOnlyTheTailWhereEverySampleAgrees() {
        HoldTimeline timeline = new HoldTimeline(List.of(held(1, 0), held(2, 10), held(1, 100), free(2, 110),
            held(1, 200), free(2, 210), held(1, 300)));

        assertThat(timeline.lastSingleHolderStreakMillis()).isEqualTo(300 - 100);
        assertThat(new HoldTimeline(List.of(held(1, 0), held(2, 10))).lastSingleHolderStreakMillis()).isZero();
        assertThat(new HoldTimeline(List.of()).lastSingleHolderStreakMillis()).isZero();
    }

    @Test
    void changesKeepEachServersFirstSampleAndEveryFlip() {
        HoldTimeline timeline = new HoldTimeline(List.of(held(1, 0), free(2, 5), held(1, 100), free(2, 105),
            free(1, 200), held(2, 205), free(1, 300), held(2, 305)));

        assertThat(timeline.changes()).containsExactly(held(1, 0), free(2, 5), free(1, 200), held(2, 205));
    }

    @Test
    void theSamplePeriodIsTheMeanGapPerServer() {
        HoldTimeline timeline = new HoldTimeline(List.of(free(1, 0), free(2, 5), free(1, 20), free(2, 45)));

        assertThat(timeline.meanSamplePeriodMillis()).isEqualTo(30.0);
    }
}
