package herd.lincheck;

import static herd.lincheck.Ops.casIndeterminate;
import static herd.lincheck.Ops.casMismatch;
import static herd.lincheck.Ops.casOk;
import static herd.lincheck.Ops.delete;
import static herd.lincheck.Ops.get;
import static herd.lincheck.Ops.put;
import static herd.lincheck.Ops.putIndeterminate;
import static herd.lincheck.Ops.putRejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private CheckResult check(Operation... operations) {
        return checker.check(History.of(operations));
    }

    private CheckResult.Violation violation(Operation... operations) {
        CheckResult result = check(operations);
        assertThat(result).as(result.report()).isInstanceOf(CheckResult.Violation.class);
        return (CheckResult.Violation) result;
    }

    @Nested
    class FlagsViolations {

        @Test
        void staleReadAfterANewerWriteCompleted() {
            Operation v1 = put(0, "v1", 0, 10);
            Operation v2 = put(1, "v2", 20, 30);
            Operation staleGet = get(2, "v1", 40, 50);

            CheckResult.Violation violation = violation(v1, v2, staleGet);

            assertThat(violation.key()).isEqualTo("k");
            assertThat(violation.operations()).containsExactly(v1, v2, staleGet);
            assertThat(violation.explanation()).isEqualTo("get at [40, 50] ns returned \"v1\", but \"v2\" was written"
                + " at [20, 30] ns and completed before the get began (\"v1\" was written earlier, at [0, 10] ns)");
            assertThat(violation.report()).contains("operations involved:", "client 2 get(\"k\") -> \"v1\" at [40, 50] ns");
        }

        @Test
        void lostAcknowledgedWriteReadAsAbsent() {
            Operation acknowledged = put(0, "v1", 0, 10);
            Operation get = get(1, null, 20, 30);

            CheckResult.Violation violation = violation(acknowledged, get);

            assertThat(violation.operations()).containsExactly(acknowledged, get);
            assertThat(violation.explanation()).isEqualTo("get at [20, 30] ns returned absent, but \"v1\" was written"
                + " at [0, 10] ns and completed before the get began (the key started absent and was never deleted)");
        }

        @Test
        void lostAcknowledgedWriteAmongConcurrentTraffic() {
            // v2 is acknowledged at 30; afterwards every read sees v3 (fine) and then v1 again: v2 and v3 were lost.
            CheckResult.Violation violation = violation(
                put(0, "v1", 0, 10),
                put(1, "v2", 5, 30),
                put(2, "v3", 12, 40),
                get(3, "v3", 45, 50),
                get(4, "v1", 60, 70),
                get(0, "v1", 80, 90));

            assertThat(violation.operations()).hasSizeLessThanOrEqualTo(3);
            assertThat(violation.explanation()).contains("returned \"v1\"", "completed before the get began");
        }

        @Test
        void casThatSucceededAgainstAnOverwrittenValue() {
            Operation v1 = put(0, "v1", 0, 10);
            Operation v2 = put(1, "v2", 20, 30);
            Operation cas = casOk(2, "v1", "v3", 40, 50);

            CheckResult.Violation violation = violation(v1, v2, cas);

            assertThat(violation.operations()).containsExactly(v1, v2, cas);
            assertThat(violation.explanation()).startsWith("cas at [40, 50] ns succeeded comparing against \"v1\","
                + " but \"v2\" was written at [20, 30] ns and completed before the cas began");
        }

        @Test
        void casThatFailedAlthoughItsExpectedValueWasCurrent() {
            Operation v1 = put(0, "v1", 0, 10);
            Operation cas = casMismatch(1, "v1", "v2", 20, 30);

            CheckResult.Violation violation = violation(v1, cas);

            assertThat(violation.explanation()).isEqualTo("cas at [20, 30] ns failed to match \"v1\", but \"v1\" was"
                + " written at [0, 10] ns and nothing else was written");
        }

        @Test
        void readOfAValueNeverWritten() {
            Operation ghost = get(1, "ghost", 20, 30);

            CheckResult.Violation violation = violation(put(0, "v1", 0, 10), ghost);

            assertThat(violation.operations()).containsExactly(ghost);
            assertThat(violation.explanation())
                .isEqualTo("get at [20, 30] ns returned \"ghost\", but no operation on this key ever wrote that value");
        }

        @Test
        void readOfAValueOnlyARejectedPutWrote() {
            CheckResult.Violation violation = violation(putRejected(0, "v1", 0, 10), get(1, "v1", 20, 30));

            assertThat(violation.explanation()).contains("no operation on this key ever wrote that value");
        }

        @Test
        void readOfAValueBeforeItsWriteBegan() {
            Operation get = get(1, "v1", 0, 10);
            Operation put = put(0, "v1", 20, 30);

            CheckResult.Violation violation = violation(get, put);

            assertThat(violation.explanation()).isEqualTo("get at [0, 10] ns returned \"v1\", but that value was"
                + " written only at [20, 30] ns, which began after the get completed");
        }

        @Test
        void valueComingBackAfterADelete() {
            CheckResult.Violation violation = violation(put(0, "v1", 0, 10), delete(1, 20, 30), get(2, "v1", 40, 50));

            assertThat(violation.explanation()).startsWith("get at [40, 50] ns returned \"v1\", but the key was deleted"
                + " at [20, 30] ns and completed before the get began");
        }

        @Test
        void indeterminateWriteSeenAndThenUnseenWithoutAnotherWrite() {
            // Once a read saw v1, v1 had taken effect; a later read of "absent" needs a delete.
            CheckResult.Violation violation = violation(
                putIndeterminate(0, "v1", 0, 10), get(1, "v1", 20, 30), get(2, null, 40, 50));

            assertThat(violation.operations()).hasSize(3);
        }

        @Test
        void twoClientsSeeingTwoWritesInOppositeOrders() {
            // Both writes overlap both pairs of reads, so each read alone is fine; together they are not.
            CheckResult.Violation violation = violation(
                put(0, "a", 0, 100),
                put(1, "b", 0, 100),
                get(2, "a", 10, 20), get(2, "b", 30, 40),
                get(3, "b", 10, 20), get(3, "a", 30, 40));

            assertThat(violation.explanation()).contains("no order of these");
        }

        @Test
        void staleReadBuriedInAThousandOperationsShrinksToTheThreeInvolved() {
            List<Operation> operations = new ArrayList<>();
            long time = 0;
            for (int i = 0; i < 1000; i++) {
                operations.add(put(i % 4, "w" + i, time, time + 15));
                operations.add(get((i + 1) % 4, i == 0 ? null : "w" + (i - 1), time + 1, time + 5));
                time += 20;
            }
            operations.add(get(7, "w500", time, time + 10));

            CheckResult.Violation violation = violation(operations.toArray(Operation[]::new));

            assertThat(violation.operations()).hasSize(3);
            assertThat(violation.operations().get(2).clientId()).isEqualTo(7);
            assertThat(violation.explanation()).contains("returned \"w500\"").doesNotContain("not needed");
        }

        @Test
        void blamesTheStaleReadAndNotAFineCasWhoseDeleteItLeftOut() {
            // Left without the delete, the cas(absent -> v2) would look wrong; the explanation must not do that.
            Operation v1 = put(0, "v1", 0, 10);
            Operation v3 = put(3, "v3", 100, 110);
            Operation staleGet = get(4, "v2", 120, 130);
            CheckResult.Violation violation = violation(
                v1, delete(1, 20, 30), casOk(2, null, "v2", 40, 50), get(2, "v2", 60, 70), v3, staleGet);

            assertThat(violation.operations()).contains(v3, staleGet).doesNotContain(v1);
            assertThat(violation.explanation()).startsWith("get at [120, 130] ns returned \"v2\", but \"v3\" was written");
        }

        @Test
        void reportsTheKeyThatViolates() {
            CheckResult result = checker.check(History.of(
                put("a", 0, "a1", 0, 10), get("a", 1, "a1", 20, 30),
                put("b", 0, "b1", 0, 10), get("b", 1, null, 20, 30)));

            assertThat(result).isInstanceOfSatisfying(CheckResult.Violation.class,
                violation -> assertThat(violation.key()).isEqualTo("b"));
            assertThat(result.isLinearizable()).isFalse();
        }
    }

    @Nested
    class AcceptsCorrectHistories {

        @Test
        void emptyHistory() {
            assertThat(check()).isEqualTo(new CheckResult.Linearizable(0, 0, 0));
        }

        @Test
        void concurrentOverlappingOperationsThatCanBeOrdered() {
            CheckResult result = check(
                put(0, "v1", 0, 100),
                put(1, "v2", 10, 90),
                get(2, "v1", 20, 60),   // v1 first, then the read ...
                get(3, "v2", 95, 120),  // ... and v2 after it: v1 (5), get (30), v2 (80)
                casOk(4, "v2", "v3", 110, 200),
                get(2, "v2", 115, 130), // before the cas takes effect
                get(3, "v3", 150, 160));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }

        @Test
        void readsConcurrentWithAWriteMaySeeEitherValue() {
            assertThat(check(put(0, "v1", 0, 10), put(1, "v2", 20, 100),
                get(2, "v2", 30, 40), get(3, "v2", 50, 60)).isLinearizable()).isTrue();
            assertThat(check(put(0, "v1", 0, 10), put(1, "v2", 20, 100),
                get(2, "v1", 30, 40), get(3, "v2", 50, 60)).isLinearizable()).isTrue();
        }

        @Test
        void operationsWhoseIntervalsTouchCountAsConcurrent() {
            assertThat(check(put(0, "v1", 0, 10), get(1, null, 10, 20)).isLinearizable()).isTrue();
        }

        @Test
        void indeterminateWriteThatTakesEffectLongAfterTheClientGaveUp() {
            CheckResult result = check(
                putIndeterminate(0, "v1", 0, 10),
                get(1, null, 20, 30),
                get(2, null, 500, 510),
                get(1, "v1", 1000, 1010));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }

        @Test
        void indeterminateWriteThatNeverTakesEffect() {
            CheckResult result = check(
                put(0, "v0", 0, 5),
                putIndeterminate(1, "v1", 10, 20),
                get(2, "v0", 30, 40),
                get(2, "v0", 1000, 1010));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }

        @Test
        void indeterminateWriteThatExplainsAFailedCas() {
            // The cas saw something other than v0; only the unanswered put of v1 can explain that.
            CheckResult result = check(
                put(0, "v0", 0, 5),
                putIndeterminate(1, "v1", 10, 20),
                casMismatch(2, "v0", "v2", 30, 40));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }

        @Test
        void indeterminateCasThatTookEffect() {
            CheckResult result = check(
                put(0, "v1", 0, 10),
                casIndeterminate(1, "v1", "v2", 20, 30),
                get(2, "v1", 40, 50),
                get(2, "v2", 60, 70));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }

        @Test
        void rejectedWritesAndUnansweredReadsConstrainNothing() {
            CheckResult result = check(
                put(0, "v1", 0, 10),
                putRejected(1, "v2", 20, 30),
                new Operation(2, "k", Action.get(), Outcome.indeterminate("timed out"), 40, 50),
                get(3, "v1", 60, 70));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }

        @Test
        void casCreatingAnAbsentKeyThenDelete() {
            CheckResult result = check(
                new Operation(0, "k", Action.casIfAbsent("v1"), Outcome.ok(), 0, 10),
                new Operation(1, "k", Action.casIfAbsent("v2"), Outcome.mismatch(), 20, 30),
                delete(2, 40, 50),
                get(3, null, 60, 70));

            assertThat(result.isLinearizable()).as(result.report()).isTrue();
        }
    }

    @Test
    void givesUpWithUnknownWhenTheSearchBudgetIsSpent() {
        List<Operation> operations = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            operations.add(put(i, "v" + i, 0, 1000));
        }
        operations.add(get(99, "v0", 2000, 2010));

        CheckResult result = new LinearizabilityChecker(5).check(new History(operations));

        assertThat(result).isInstanceOfSatisfying(CheckResult.Unknown.class, unknown -> {
            assertThat(unknown.key()).isEqualTo("k");
            assertThat(unknown.report()).contains("more than 5 steps", "larger maxStepsPerKey");
        });
    }

    @Test
    void rejectsBadInputWithAClearMessage() {
        assertThatThrownBy(() -> new LinearizabilityChecker(0)).hasMessageContaining("positive number of search steps");
        assertThatThrownBy(() -> put(0, "v", 10, 5)).hasMessageContaining("before it was invoked");
        assertThatThrownBy(() -> new Operation(0, "k", Action.get(), Outcome.ok(), 0, 1))
            .hasMessageContaining("a get ends in Read");
        assertThatThrownBy(() -> new Operation(0, "k", Action.put("v"), Outcome.mismatch(), 0, 1))
            .hasMessageContaining("does not fit");
        assertThatThrownBy(() -> checker.checkKey("a", List.of(put(0, "v", 0, 1))))
            .hasMessageContaining("operation on key \"k\"");
    }
}
