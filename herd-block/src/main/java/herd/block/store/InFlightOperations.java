package herd.block.store;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * How long the oldest unfinished operation on a store has waited, told without touching the disk:
 * a disk that hangs (a dead controller, a frozen file system) blocks the operations on it in the
 * kernel, and a node must see that its own store no longer answers while its other parts still do.
 *
 * <p>Operations are counted by the second they began, in {@link #SLOTS} slots used in turn: begun
 * and ended counts per slot, so that beginning and ending cost an increment each (the data path
 * runs hundreds of thousands of them a second) and no operation is kept in a shared structure. A
 * slot whose counts differ holds an operation still running; the watcher, which looks every second
 * or so, remembers when it first saw each such slot's operations begin, so an operation that waits
 * longer than a round of the slots is still counted from its start.
 */
public final class InFlightOperations {
    /** Seconds told apart: far more than any wait that matters, so a slot is not reused meanwhile. */
    static final int SLOTS = 64;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final long NOT_WAITING = -1;

    private final LongSupplier nanoClock;
    private final long originNanos;
    private final LongAdder[] begun = new LongAdder[SLOTS];
    private final LongAdder[] ended = new LongAdder[SLOTS];
    /** The latest second (since the origin) in which an operation began in each slot. */
    private final AtomicLongArray lastBegun = new AtomicLongArray(SLOTS);
    /** Per slot, the second its unfinished operations began as the watcher first saw them; guarded by this. */
    private final long[] waitingSince = new long[SLOTS];

    public InFlightOperations() {
        this(System::nanoTime);
    }

    InFlightOperations(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.originNanos = nanoClock.getAsLong();
        for (int slot = 0; slot < SLOTS; slot++) {
            begun[slot] = new LongAdder();
            ended[slot] = new LongAdder();
        }
        Arrays.fill(waitingSince, NOT_WAITING);
    }

    /** Counts an operation as begun; give what it returns to {@link #end} when it is over, however it ended. */
    public int begin() {
        long second = secondsNow();
        int slot = (int) (second % SLOTS);
        if (lastBegun.get(slot) < second) {
            lastBegun.accumulateAndGet(slot, second, Math::max);
        }
        begun[slot].increment();
        return slot;
    }

    public void end(int ticket) {
        ended[ticket].increment();
    }

    /** How long the oldest operation still running has waited, to the second; zero when none is running. */
    public synchronized Duration longestWait() {
        long now = secondsNow();
        long oldest = now;
        for (int slot = 0; slot < SLOTS; slot++) {
            long endedCount = ended[slot].sum(); // before the begun count: an operation is never seen ended and not begun
            if (begun[slot].sum() == endedCount) {
                waitingSince[slot] = NOT_WAITING;
                continue;
            }
            if (waitingSince[slot] == NOT_WAITING) {
                waitingSince[slot] = lastBegun.get(slot);
            }
            oldest = Math.min(oldest, waitingSince[slot]);
        }
        return Duration.ofSeconds(now - oldest);
    }

    private long secondsNow() {
        return (nanoClock.getAsLong() - originNanos) / NANOS_PER_SECOND;
    }
}
