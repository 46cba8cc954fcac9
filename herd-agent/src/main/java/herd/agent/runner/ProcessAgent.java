package herd.agent.runner;

import herd.agent.OcfExit;
import herd.agent.OperationRequest;
import herd.agent.exec.ProcessGroups;
import herd.agent.exec.ProcessLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * herd:process, a built-in agent: runs a command detached in its own session, its output in
 * {@code <resource>.log} and its identity in {@code <resource>.pid} in the node's run directory.
 * All state is in the pid file, so an executor started after a daemon restart probes correctly.
 */
public final class ProcessAgent implements AgentRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessAgent.class);

    public static final String NAME = "herd:process";
    /** Pause between health checks while starting. */
    /**
     * Health checks during a start are retried quickly at first (a service is often up in tens of
     * ms), then every 50 ms: a check is one connection attempt, cheap next to a late start.
     */
    public static final long START_RETRY_FIRST_MILLIS = 10;
    public static final long START_RETRY_MILLIS = 50;
    /** How long stop waits after SIGTERM before SIGKILL, at most (less when the timeout is shorter). */
    public static final long STOP_GRACE_MILLIS = 10_000;
    private static final long KILL_CONFIRM_MILLIS = 2_000;

    private final Path runDirectory;
    private final List<String> commandWrapper;

    public ProcessAgent(Path runDirectory, List<String> commandWrapper) {
        this.runDirectory = runDirectory;
        this.commandWrapper = List.copyOf(commandWrapper);
    }

    public Path pidFile(String resourceId) {
        return runDirectory.resolve(resourceId + ".pid");
    }

    public Path logFile(String resourceId) {
        return runDirectory.resolve(resourceId + ".log");
    }

    @Override
    public AgentAnswer run(OperationRequest request) {
        return switch (request.action()) {
            case "meta-data" -> AgentAnswer.metadata(BuiltInMetadata.process());
            case "validate-all" -> validate(request).map(AgentAnswer::notConfigured).orElse(AgentAnswer.ok());
            case "start" -> validate(request).map(AgentAnswer::notConfigured).orElseGet(() -> start(request));
            case "monitor", "status" -> monitor(request);
            case "stop" -> stop(request);
            default -> AgentAnswer.notSupported(NAME, request.action());
        };
    }

    private static Optional<String> validate(OperationRequest request) {
        if (request.param("command", "").isBlank()) {
            return Optional.of("herd:process needs the parameter 'command' (run with /bin/sh -c)");
        }
        String directory = request.param("directory", "");
        if (!directory.isEmpty() && !Files.isDirectory(Path.of(directory))) {
            return Optional.of("directory '" + directory + "' of herd:process does not exist");
        }
        return HealthCheck.invalid(request.param("check_tcp", ""), request.param("check_http", ""));
    }

    private AgentAnswer start(OperationRequest request) {
        long deadlineNanos = System.nanoTime() + request.timeoutMillis() * 1_000_000;
        Optional<PidFile> running = liveProcess(request.resourceId());
        if (running.isEmpty()) {
            try {
                running = Optional.of(launch(request));
            } catch (IOException e) {
                return AgentAnswer.error("cannot start the command of " + request.resourceId() + ": " + e.getMessage());
            }
        }
        long pid = running.get().pid();
        String lastFailure = "";
        long retryMillis = START_RETRY_FIRST_MILLIS;
        while (true) {
            if (!isOurs(running.get())) {
                return AgentAnswer.error("process " + pid + " exited during start; see " + logFile(request.resourceId()));
            }
            Optional<String> failure = HealthCheck.failure(request.param("check_tcp", ""), request.param("check_http", ""));
            if (failure.isEmpty()) {
                log.info("{} started as process {}", request.resourceId(), pid);
                return AgentAnswer.ok();
            }
            lastFailure = failure.get();
            if (System.nanoTime() + retryMillis * 1_000_000 > deadlineNanos) {
                // The process stays: the scheduler will stop it, as it does after any failed start.
                AgentAnswer timedOut = AgentAnswer.timedOut(request.timeoutMillis());
                return new AgentAnswer(timedOut.rc(), timedOut.status(),
                    "health check did not pass within " + request.timeoutMillis() + " ms: " + lastFailure, "");
            }
            try {
                Thread.sleep(retryMillis);
                retryMillis = Math.min(START_RETRY_MILLIS, retryMillis * 2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return AgentAnswer.cancelled();
            }
        }
    }

    private PidFile launch(OperationRequest request) throws IOException {
        Files.createDirectories(runDirectory);
        List<String> argv = new ArrayList<>();
        argv.add(ProcessLauncher.SETSID);
        argv.addAll(commandWrapper);
        argv.addAll(List.of("/bin/sh", "-c", request.param("command", "")));
        ProcessBuilder builder = new ProcessBuilder(argv)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(request.resourceId()).toFile()))
            .redirectErrorStream(true);
        String directory = request.param("directory", "");
        if (!directory.isEmpty()) {
            builder.directory(new File(directory));
        }
        Process process = builder.start();
        long pid = process.pid();
        OptionalLong startTime = ProcessGroups.startTime(pid);
        if (startTime.isEmpty()) {
            throw new IOException("the command exited at once; see " + logFile(request.resourceId()));
        }
        PidFile pidFile = new PidFile(pid, startTime.getAsLong());
        pidFile.write(pidFile(request.resourceId()));
        return pidFile;
    }

    private AgentAnswer monitor(OperationRequest request) {
        Optional<PidFile> recorded = PidFile.read(pidFile(request.resourceId()));
        if (recorded.isEmpty()) {
            return AgentAnswer.notRunning("");
        }
        if (!isOurs(recorded.get())) {
            return AgentAnswer.notRunning("process " + recorded.get().pid() + " is gone");
        }
        return HealthCheck.failure(request.param("check_tcp", ""), request.param("check_http", ""))
            .map(AgentAnswer::error)
            .orElse(AgentAnswer.ok());
    }

    private AgentAnswer stop(OperationRequest request) {
        Path pidPath = pidFile(request.resourceId());
        Optional<PidFile> recorded = PidFile.read(pidPath);
        if (recorded.isPresent() && groupIsOurs(recorded.get())) {
            long group = recorded.get().pid();
            long graceMillis = Math.min(STOP_GRACE_MILLIS, Math.max(0, request.timeoutMillis() - KILL_CONFIRM_MILLIS) / 2);
            ProcessGroups.signalGroup(group, "TERM");
            if (!ProcessGroups.awaitEmpty(group, graceMillis)) {
                if (Thread.currentThread().isInterrupted()) {
                    return AgentAnswer.cancelled(); // the executor is closing: no SIGKILL in a hurry
                }
                log.warn("{}: process group {} survived SIGTERM for {} ms; sending SIGKILL", request.resourceId(), group, graceMillis);
                if (!ProcessGroups.killGroup(group, KILL_CONFIRM_MILLIS)) {
                    return AgentAnswer.error("process group " + group + " survived SIGKILL");
                }
            }
            log.info("{} stopped (process group {})", request.resourceId(), group);
        }
        try {
            Files.deleteIfExists(pidPath);
        } catch (IOException e) {
            return new AgentAnswer(OcfExit.ERR_GENERIC.code(), herd.agent.ExecStatus.DONE,
                "cannot remove " + pidPath + ": " + e.getMessage(), "");
        }
        return AgentAnswer.ok();
    }

    /** The recorded leader process is alive and is the one we started (same start time). */
    private static boolean isOurs(PidFile recorded) {
        OptionalLong startTime = ProcessGroups.startTime(recorded.pid());
        return startTime.isPresent() && startTime.getAsLong() == recorded.startTimeTicks();
    }

    /**
     * Our process group still has members: the leader is ours, or it is gone but processes remain in
     * its group (the kernel does not reuse a pid that is still some group's id).
     */
    private static boolean groupIsOurs(PidFile recorded) {
        if (isOurs(recorded)) {
            return true;
        }
        return ProcessGroups.startTime(recorded.pid()).isEmpty() && !ProcessGroups.liveMembers(recorded.pid()).isEmpty();
    }

    private Optional<PidFile> liveProcess(String resourceId) {
        return PidFile.read(pidFile(resourceId)).filter(ProcessAgent::isOurs);
    }
}
