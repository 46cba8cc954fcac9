package herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class CallDeadlinesTest {

    @Test
    void aCallWithoutAnAnswerFailsOnceItsTimeoutHasPassedAndItsOwnFutureIsLeftAlone() {
        CallDeadlines deadlines = new CallDeadlines(Duration.ofMillis(100));
        CompletableFuture<String> neverAnswered = new CompletableFuture<>();

        CompletableFuture<String> bounded = deadlines.bound(neverAnswered);

        assertThatThrownBy(() -> bounded.get(5, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
        assertThat(neverAnswered).isNotDone();
        assertThat(deadlines.pending()).isZero();
    }

    @Test
    void anAnsweredCallKeepsItsAnswerAndLeavesNothingBehind() throws Exception {
        CallDeadlines deadlines = new CallDeadlines(Duration.ofSeconds(30));
        CompletableFuture<String> call = new CompletableFuture<>();

        CompletableFuture<String> bounded = deadlines.bound(call);
        assertThat(deadlines.pending()).isEqualTo(1);
        call.complete("answer");

        assertThat(bounded.get(5, TimeUnit.SECONDS)).isEqualTo("answer");
        assertThat(deadlines.pending()).isZero();
    }
}
