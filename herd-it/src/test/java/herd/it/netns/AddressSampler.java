package herd.it.netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Records when each server of a {@link BridgedNetwork} holds an address, two ways at once:
 * <ul>
 *   <li>it samples {@code ip -n NS addr show} of every server about every {@code period}, which
 *       cannot miss a state that lasts longer than a round, but on a loaded machine a round can
 *       take far longer than the period (every sample is a fork and exec);</li>
 *   <li>it runs {@code ip -n NS monitor address} in every server's namespace, which reports each
 *       added or deleted address as it happens, so the times of the changes are precise.</li>
 * </ul>
 * Times are milliseconds since the sampler started; {@link #nowMillis()} reads the same clock, so
 * a test can mark the moment it did something.
 */
public final class AddressSampler implements AutoCloseable {
    private final BridgedNetwork network;
    private final String address;
    private final long periodNanos;
    private final long startNanos = System.nanoTime();
    private final List<HoldTimeline.Observation> observations = new ArrayList<>();
    private final List<Process> monitors = new ArrayList<>();
    private final Thread sampling;
    private volatile boolean running = true;
    private volatile RuntimeException failure;

    /** Starts watching {@code address} (without prefix) on every server of {@code network}. */
    public AddressSampler(BridgedNetwork network, String address, Duration period) throws IOException {
        this.network = network;
        this.address = address;
        this.periodNanos = period.toNanos();
        for (int server = 1; server <= network.serverCount(); server++) {
            startMonitor(server);
        }
        this.sampling = new Thread(this::sampleUntilClosed, "address-sampler");
        this.sampling.setDaemon(true);
        this.sampling.start();
    }

    /** The address watched, without prefix. */
    public String address() {
        return address;
    }

    public long nowMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Everything recorded so far; throws if sampling failed (e.g. a namespace vanished). */
    public HoldTimeline timeline() {
        if (failure != null) {
            throw new IllegalStateException("sampling " + address + " failed: " + failure.getMessage(), failure);
        }
        synchronized (observations) {
            return new HoldTimeline(List.copyOf(observations));
        }
    }

    private void startMonitor(int server) throws IOException {
        Process monitor = new ProcessBuilder("ip", "-n", network.serverNamespace(server), "-o", "monitor", "address",
            "dev", BridgedNetwork.DEVICE).redirectErrorStream(true).start();
        monitors.add(monitor);
        Thread reader = new Thread(() -> readEvents(server, monitor), "address-monitor-s" + server);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Turns monitor lines into observations: "N: DEV inet ADDRESS/PREFIX ..." when the address is
     * added, the same prefixed with "Deleted" when it is removed.
     */
    private void readEvents(int server, Process monitor) {
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(monitor.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            String lastLine = "";
            while ((line = lines.readLine()) != null) {
                lastLine = line;
                if (!line.contains(" " + address + "/")) {
                    continue;
                }
                long at = nowMillis();
                synchronized (observations) {
                    // An addition is a change: without the address just before, with it from now on.
                    observations.add(new HoldTimeline.Observation(server, at, false));
                    if (!line.startsWith("Deleted")) {
                        observations.add(new HoldTimeline.Observation(server, at, true));
                    }
                }
            }
            if (running) {
                failure = new IllegalStateException("ip monitor of s" + server + " stopped: " + lastLine);
            }
        } catch (IOException e) {
            if (running) {
                failure = new IllegalStateException("reading ip monitor of s" + server, e);
            }
        }
    }

    private void sampleUntilClosed() {
        try {
            while (running) {
                long roundStart = System.nanoTime();
                for (int server = 1; server <= network.serverCount(); server++) {
                    sample(server);
                }
                long idleNanos = periodNanos - (System.nanoTime() - roundStart);
                if (idleNanos > 0) {
                    TimeUnit.NANOSECONDS.sleep(idleNanos);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running) {
                failure = e;
            }
        }
    }

    /** Records the sample at the middle of the `ip` call, the best guess of when it looked. */
    private void sample(int server) {
        long before = nowMillis();
        boolean holds = network.holds(server, address);
        long at = (before + nowMillis()) / 2;
        synchronized (observations) {
            observations.add(new HoldTimeline.Observation(server, at, holds));
        }
    }

    /** Stops sampling and the monitors; waits for neither when interrupted (and keeps the interrupt). */
    @Override
    public void close() {
        running = false;
        try {
            sampling.join(TimeUnit.SECONDS.toMillis(10));
            for (Process monitor : monitors) {
                monitor.destroy();
                monitor.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            monitors.forEach(Process::destroyForcibly);
            Thread.currentThread().interrupt();
        }
    }
}
