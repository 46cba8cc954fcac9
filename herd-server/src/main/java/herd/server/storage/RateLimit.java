package herd.server.storage;

/** Keeps a background walk (recovery, scrub) under a byte rate, so it leaves the disk and network to clients. */
final class RateLimit {
    private RateLimit() {}

    /** Sleeps until {@code bytesDone} since {@code startedMillis} no longer exceed {@code bytesPerSecond}. */
    static void pause(long bytesDone, long startedMillis, long bytesPerSecond) {
        long dueMillis = startedMillis + bytesDone * 1000 / bytesPerSecond;
        long wait = dueMillis - System.currentTimeMillis();
        if (wait > 0) {
            StorageMaps.sleepQuietly(wait);
        }
    }
}
