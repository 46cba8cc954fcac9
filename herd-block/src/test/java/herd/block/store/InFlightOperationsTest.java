package herd.block.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class InFlightOperationsTest {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final InFlightOperations operations = new InFlightOperations(nanos::get);

    private void at(double seconds) {
        nanos.set(5_000_000_000L + (long) (seconds * 1e9));
    }

    /** What the watcher sees when it looks once a second from {@code from} to {@code to}, as the node's watch does; the last look. */
    private Duration lookEverySecond(int from, int to) {
        Duration seen = Duration.ZERO;
        for (int second = from; second <= to; second++) {
            at(second + 0.5);
            seen = operations.longestWait();
        }
        return seen;
    }

    @Test
    void nothingRunningHasWaitedNothing() {
        assertThat(operations.longestWait()).isZero();
        at(30);
        int ticket = operations.begin();
        operations.end(ticket);
        assertThat(operations.longestWait()).isZero();
    }

    @Test
    void theOldestOperationStillRunningIsCountedFromTheSecondItBegan() {
        at(1.2);
        int stuck = operations.begin();
        at(3.7);
        int quick = operations.begin();
        assertThat(lookEverySecond(4, 12)).isEqualTo(Duration.ofSeconds(11));
        operations.end(stuck);
        assertThat(operations.longestWait()).as("only the later one runs").isEqualTo(Duration.ofSeconds(9));
        operations.end(quick);
        assertThat(operations.longestWait()).isZero();
    }

    @Test
    void anOperationThatOutlastsARoundOfTheSlotsIsStillCountedFromItsStart() {
        at(2.5);
        int stuck = operations.begin();
        for (int second = 3; second <= 3 * InFlightOperations.SLOTS; second++) {
            at(second + 0.1);
            operations.end(operations.begin()); // operations that come and go, in the stuck one's slot too
            at(second + 0.5);
            assertThat(operations.longestWait()).isEqualTo(Duration.ofSeconds(second - 2));
        }
        operations.end(stuck);
        assertThat(operations.longestWait()).isZero();
    }

    @Test
    void manyOperationsThatEndLeaveNothingWaitingWhateverTheirOrder() {
        int[] tickets = new int[1000];
        for (int i = 0; i < tickets.length; i++) {
            at(i * 0.01);
            tickets[i] = operations.begin();
        }
        at(20);
        assertThat(operations.longestWait()).isEqualTo(Duration.ofSeconds(20));
        for (int i = tickets.length - 1; i >= 0; i--) {
            operations.end(tickets[i]);
        }
        assertThat(operations.longestWait()).isZero();
    }
}
