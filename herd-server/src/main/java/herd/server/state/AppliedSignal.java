package herd.server.state;

/**
 * Lets threads wait until the local state has applied past a log index: watch streams sleep here
 * instead of polling.
 */
public final class AppliedSignal {
    private long appliedIndex;

    public synchronized void advance(long index) {
        if (index > appliedIndex) {
            appliedIndex = index;
            notifyAll();
        }
    }

    public synchronized long appliedIndex() {
        return appliedIndex;
    }

    /** Waits until the applied index is above {@code seenIndex} or the time runs out; returns the index. */
    public synchronized long awaitAbove(long seenIndex, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (appliedIndex <= seenIndex) {
            long remainingMillis = (deadline - System.nanoTime()) / 1_000_000L;
            if (remainingMillis <= 0) {
                break;
            }
            wait(remainingMillis);
        }
        return appliedIndex;
    }
}
