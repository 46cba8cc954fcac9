package herd.agent.fence;

import herd.agent.AgentId;
import herd.agent.ExecStatus;
import herd.agent.exec.ChildCommand;
import herd.agent.exec.ChildOutcome;
import herd.agent.exec.ProcessLauncher;
import herd.agent.runner.BuiltInMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs fence agents with the fence-agents stdin protocol ({@code key=value} lines: action, plug,
 * nodename and the device's parameters), and herd's own {@code stonith:herd-script}.
 */
public final class FenceAgentRunner {

    public static final Path DEFAULT_AGENT_DIRECTORY = Path.of("/usr/sbin");
    /** Set to "none" on a device whose agent takes no plug (the target is then only in nodename). */
    public static final String HOST_ARGUMENT_PARAM = "pcmk_host_argument";
    private static final String HERD_PARAM_PREFIX = "pcmk_";

    private final ProcessLauncher launcher;
    private final Path agentDirectory;

    public FenceAgentRunner(ProcessLauncher launcher) {
        this(launcher, DEFAULT_AGENT_DIRECTORY);
    }

    public FenceAgentRunner(ProcessLauncher launcher, Path agentDirectory) {
        this.launcher = launcher;
        this.agentDirectory = agentDirectory;
    }

    public FenceResult fence(FenceDevice device, String targetNode, FenceAction action, long timeoutMillis) {
        if (targetNode == null || targetNode.isBlank() || targetNode.contains("\n")) {
            throw new IllegalArgumentException("fencing needs a target node name (one line), got '" + targetNode + "'");
        }
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("fence timeout must be positive, got " + timeoutMillis + " ms");
        }
        long startedNanos = System.nanoTime();
        Optional<ChildCommand> command = command(device, targetNode, action, timeoutMillis);
        if (command.isEmpty()) {
            return new FenceResult(device.id(), targetNode, action, ExecStatus.NOT_INSTALLED, -1,
                "fence agent " + agentPath(device.agent()) + " not found", elapsedMillis(startedNanos));
        }
        ChildOutcome outcome = launcher.run(command.get());
        return result(device.id(), targetNode, action, outcome, elapsedMillis(startedNanos));
    }

    /** The agent's meta-data XML; empty when the agent is missing or does not answer. */
    public Optional<String> metadata(AgentId agent, long timeoutMillis) {
        if (agent.type().equals(AgentId.HERD_SCRIPT_FENCE_TYPE)) {
            return Optional.of(BuiltInMetadata.herdScriptFence());
        }
        Path path = agentPath(agent);
        if (!Files.isExecutable(path)) {
            return Optional.empty();
        }
        ChildOutcome outcome = launcher.run(new ChildCommand(List.of(path.toString(), "-o", "metadata"), Map.of(), null, null,
            timeoutMillis, ChildCommand.METADATA_LIMIT_BYTES));
        return outcome instanceof ChildOutcome.Exited exited && exited.exitCode() == 0
            ? Optional.of(exited.stdout()) : Optional.empty();
    }

    public Path agentPath(AgentId agent) {
        return agentDirectory.resolve(agent.type());
    }

    private Optional<ChildCommand> command(FenceDevice device, String targetNode, FenceAction action, long timeoutMillis) {
        if (device.isHerdScript()) {
            return Optional.of(new ChildCommand(List.of("/bin/sh", "-c", device.params().get("command")),
                Map.of("HERD_FENCE_ACTION", action.word(), "HERD_FENCE_TARGET", targetNode), null, null,
                timeoutMillis, ChildCommand.OUTPUT_TAIL_BYTES));
        }
        Path agent = agentPath(device.agent());
        if (!Files.isExecutable(agent)) {
            return Optional.empty();
        }
        return Optional.of(new ChildCommand(List.of(agent.toString()), Map.of(), stdinText(device, targetNode, action),
            null, timeoutMillis, ChildCommand.OUTPUT_TAIL_BYTES));
    }

    /** The key=value lines a fence agent reads on stdin. Pure. */
    public static String stdinText(FenceDevice device, String targetNode, FenceAction action) {
        StringBuilder lines = new StringBuilder();
        lines.append("action=").append(action.word()).append('\n');
        boolean targetsPlug = !"none".equals(device.params().get(HOST_ARGUMENT_PARAM))
            && !device.params().containsKey("plug") && !device.params().containsKey("port");
        if (targetsPlug && action != FenceAction.MONITOR && action != FenceAction.LIST) {
            lines.append("plug=").append(targetNode).append('\n');
        }
        lines.append("nodename=").append(targetNode).append('\n');
        device.params().entrySet().stream()
            .filter(e -> !e.getKey().startsWith(HERD_PARAM_PREFIX))
            .sorted(Map.Entry.comparingByKey())
            .forEach(e -> lines.append(e.getKey()).append('=').append(e.getValue()).append('\n'));
        return lines.toString();
    }

    private static FenceResult result(String deviceId, String target, FenceAction action, ChildOutcome outcome, long durationMillis) {
        return switch (outcome) {
            case ChildOutcome.Exited exited -> new FenceResult(deviceId, target, action, ExecStatus.DONE, exited.exitCode(),
                exited.exitCode() == 0 ? "" : lastErrorLine(exited.stderr(), exited.stdout(), exited.exitCode()), durationMillis);
            case ChildOutcome.TimedOut timedOut -> new FenceResult(deviceId, target, action, ExecStatus.TIMEOUT, -1,
                "timed out after " + timedOut.timeoutMillis() + " ms", durationMillis);
            case ChildOutcome.Cancelled cancelled -> new FenceResult(deviceId, target, action, ExecStatus.CANCELLED, -1,
                "cancelled: the executor is closing", durationMillis);
            case ChildOutcome.LaunchFailed failed -> new FenceResult(deviceId, target, action, ExecStatus.ERROR, -1,
                failed.reason(), durationMillis);
        };
    }

    /** fence-agents log "... ERROR: Failed: <why>" on stderr; the last such line says most. */
    static String lastErrorLine(String stderr, String stdout, int exitCode) {
        String found = "";
        for (String line : (stderr + "\n" + stdout).split("\n")) {
            String trimmed = line.strip();
            int error = trimmed.indexOf("ERROR: ");
            if (error >= 0) {
                found = trimmed.substring(error + "ERROR: ".length());
            } else if (trimmed.startsWith("Failed")) {
                found = trimmed;
            }
        }
        if (found.isEmpty()) {
            String[] lines = stderr.strip().split("\n");
            found = lines[lines.length - 1].strip();
        }
        return found.isEmpty() ? "exit code " + exitCode : found;
    }

    private static long elapsedMillis(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }
}
