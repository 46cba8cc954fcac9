package herd.agent;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Runs recurring monitors later. Injected into {@link Executor} so tests can drive time. */
public interface MonitorScheduler extends AutoCloseable {

    /** A scheduled task that can be called off. */
    interface Scheduled {
        void cancel();
    }

    /** Runs {@code task} once after {@code delayMillis}; the task must return quickly. */
    Scheduled schedule(long delayMillis, Runnable task);

    @Override
    void close();

    /** Real time, on one daemon platform thread that only hands tasks over. */
    static MonitorScheduler system() {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "herd-monitor-timer");
            thread.setDaemon(true);
            return thread;
        });
        return new MonitorScheduler() {
            @Override
            public Scheduled schedule(long delayMillis, Runnable task) {
                ScheduledFuture<?> future = timer.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
                return () -> future.cancel(false);
            }

            @Override
            public void close() {
                timer.shutdownNow();
            }
        };
    }
}
