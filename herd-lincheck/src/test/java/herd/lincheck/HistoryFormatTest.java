package herd.lincheck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HistoryFormatTest {

    private static final String EXAMPLE = """
        # herd-lincheck history v1
        # client key invokedNanos completedNanos action outcome
        0 "k1" 100 200 put "v5" ok
        1 "k1" 150 250 get read "v5"

        1 "k1" 300 350 get read absent
        2 "k1" 300 400 cas "v5" "v7" ok
        2 "k1" 500 600 cas absent "v8" mismatch
        3 "k1" 700 800 delete ok
        3 "k1" 900 2900 put "v9" indeterminate "timed out after 2 s"
        4 "k \\"quoted\\"" 950 960 put "line\\nbreak" rejected "HTTP 400"
        """;

    @Test
    void readsEveryKindOfLine() {
        History history = HistoryFormat.parse(EXAMPLE);

        assertThat(history.operations()).containsExactly(
            new Operation(0, "k1", Action.put("v5"), Outcome.ok(), 100, 200),
            new Operation(1, "k1", Action.get(), Outcome.read("v5"), 150, 250),
            new Operation(1, "k1", Action.get(), Outcome.readAbsent(), 300, 350),
            new Operation(2, "k1", Action.cas("v5", "v7"), Outcome.ok(), 300, 400),
            new Operation(2, "k1", Action.casIfAbsent("v8"), Outcome.mismatch(), 500, 600),
            new Operation(3, "k1", Action.delete(), Outcome.ok(), 700, 800),
            new Operation(3, "k1", Action.put("v9"), Outcome.indeterminate("timed out after 2 s"), 900, 2900),
            new Operation(4, "k \"quoted\"", Action.put("line\nbreak"), Outcome.rejected("HTTP 400"), 950, 960));
    }

    @Test
    void writesWhatItReads() {
        History history = HistoryFormat.parse(EXAMPLE);

        String text = HistoryFormat.format(history);

        assertThat(text).startsWith(HistoryFormat.HEADER + "\n");
        assertThat(text).contains("4 \"k \\\"quoted\\\"\" 950 960 put \"line\\nbreak\" rejected \"HTTP 400\"\n");
        assertThat(HistoryFormat.parse(text)).isEqualTo(history);
    }

    @Test
    void escapesControlCharacters() {
        assertThat(HistoryFormat.quote("a\u0001b\\c\t")).isEqualTo("\"a\\u0001b\\\\c\\t\"");
        assertThat(HistoryFormat.parseLine("0 \"\\u0041\" 1 2 get read absent").key()).isEqualTo("A");
    }

    @Test
    void namesTheLineAndTheProblem() {
        assertThatThrownBy(() -> HistoryFormat.parse("# header\n0 \"k\" 1 2 put \"v\" ok\n0 \"k\" x 2 get read absent\n"))
            .hasMessageStartingWith("history line 3: the invokedNanos must be a whole number, got 'x'")
            .hasMessageContaining("expected: <client>");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 1 2 get read"))
            .hasMessage("the line ends where the value read should be");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 1 2 get read maybe"))
            .hasMessageContaining("a quoted value or the word absent, got 'maybe'");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 1 2 scan ok"))
            .hasMessageContaining("unknown action 'scan'");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 1 2 get done"))
            .hasMessageContaining("unknown outcome 'done'");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 k 1 2 get read absent"))
            .hasMessageContaining("the key must be in double quotes, got 'k'");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k 1 2 get read absent"))
            .hasMessageContaining("is not closed");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 1 2 get read absent extra"))
            .hasMessageContaining("unexpected 'extra' after the outcome");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 5 2 get read absent"))
            .hasMessageContaining("before it was invoked");
        assertThatThrownBy(() -> HistoryFormat.parseLine("0 \"k\" 1 2 get ok"))
            .hasMessageContaining("does not fit");
    }

    @Test
    void aSavedViolationReplays() {
        History history = History.of(
            Ops.put(0, "v1", 0, 10), Ops.put(1, "v2", 20, 30), Ops.get(2, "v1", 40, 50));

        CheckResult replayed = new LinearizabilityChecker().check(HistoryFormat.parse(HistoryFormat.format(history)));

        assertThat(replayed).isEqualTo(new LinearizabilityChecker().check(history));
        assertThat(replayed.isLinearizable()).isFalse();
    }
}
