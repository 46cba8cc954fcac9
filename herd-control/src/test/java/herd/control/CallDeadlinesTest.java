package herd.control;

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
        CompletableFuture<String> neverAnswered = new CompletableFuture<>();

        CompletableFuture<String> bounded = CallDeadlines.bound(neverAnswered, Duration.ofMillis(100));

        assertThatThrownBy(() -> bounded.get(5, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class)
            .hasMessageContaining("no answer within 100 ms");
        assertThat(neverAnswered).isNotDone();
        assertThat(CallDeadlines.waiting(bounded)).isFalse();
    }

    @Test
    void anAnsweredCallKeepsItsAnswerAndLeavesNothingBehind() throws Exception {
        CompletableFuture<String> call = new CompletableFuture<>();

        CompletableFuture<String> bounded = CallDeadlines.bound(call, Duration.ofSeconds(30));
        assertThat(CallDeadlines.waiting(bounded)).isTrue();
        call.complete("answer");

        assertThat(bounded.get(5, TimeUnit.SECONDS)).isEqualTo("answer");
        assertThat(CallDeadlines.waiting(bounded)).isFalse();
    }

    @Test
    void aCallThatFailsKeepsItsFailureAndLeavesNothingBehind() {
        CompletableFuture<String> call = new CompletableFuture<>();

        CompletableFuture<String> bounded = CallDeadlines.bound(call, Duration.ofSeconds(30));
        call.completeExceptionally(new IllegalStateException("refused"));

        assertThatThrownBy(() -> bounded.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(CallDeadlines.waiting(bounded)).isFalse();
    }
}
