package herd.agent.runner;

import herd.agent.ExecStatus;
import herd.agent.OcfExit;
import herd.agent.OperationRequest;
import herd.agent.fence.FenceAction;
import herd.agent.fence.FenceAgentRunner;
import herd.agent.fence.FenceDevice;
import herd.agent.fence.FenceResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fence device as a cluster resource (class stonith): start checks the device with action=monitor
 * and marks it started in the run directory; monitor runs action=monitor (7 before start, as a
 * Pacemaker probe of an unregistered device); stop unmarks it.
 */
public final class StonithResourceRunner implements AgentRunner {

    private final FenceAgentRunner fenceAgents;
    private final Path runDirectory;
    private final String nodeName;

    public StonithResourceRunner(FenceAgentRunner fenceAgents, Path runDirectory, String nodeName) {
        this.fenceAgents = fenceAgents;
        this.runDirectory = runDirectory;
        this.nodeName = nodeName;
    }

    private Path startedMarker(String resourceId) {
        return runDirectory.resolve(resourceId + ".stonith");
    }

    @Override
    public AgentAnswer run(OperationRequest request) {
        if (request.action().equals("meta-data")) {
            return fenceAgents.metadata(request.agent(), request.timeoutMillis())
                .map(AgentAnswer::metadata)
                .orElseGet(() -> AgentAnswer.notInstalled("fence agent " + fenceAgents.agentPath(request.agent()) + " not found"));
        }
        FenceDevice device;
        try {
            device = new FenceDevice(request.resourceId(), request.agent(), request.params());
        } catch (IllegalArgumentException e) {
            return AgentAnswer.notConfigured(e.getMessage());
        }
        return switch (request.action()) {
            case "validate-all" -> AgentAnswer.ok();
            case "start" -> start(device, request);
            case "monitor", "status" -> Files.exists(startedMarker(request.resourceId()))
                ? check(device, request) : AgentAnswer.notRunning("");
            case "stop" -> stop(request);
            default -> AgentAnswer.notSupported(request.agent().toString(), request.action());
        };
    }

    private AgentAnswer start(FenceDevice device, OperationRequest request) {
        AgentAnswer checked = check(device, request);
        if (!checked.succeeded()) {
            return checked;
        }
        try {
            Files.createDirectories(runDirectory);
            Files.writeString(startedMarker(request.resourceId()), device.agent() + "\n");
            return AgentAnswer.ok();
        } catch (IOException e) {
            return AgentAnswer.error("cannot write " + startedMarker(request.resourceId()) + ": " + e.getMessage());
        }
    }

    private AgentAnswer stop(OperationRequest request) {
        try {
            Files.deleteIfExists(startedMarker(request.resourceId()));
            return AgentAnswer.ok();
        } catch (IOException e) {
            return AgentAnswer.error("cannot remove " + startedMarker(request.resourceId()) + ": " + e.getMessage());
        }
    }

    private AgentAnswer check(FenceDevice device, OperationRequest request) {
        // A device check has no target; the checking node's name fills the protocol's nodename.
        FenceResult result = fenceAgents.fence(device, nodeName, FenceAction.MONITOR, request.timeoutMillis());
        return switch (result.status()) {
            case DONE -> result.success() ? AgentAnswer.ok() : AgentAnswer.error(result.reason());
            case TIMEOUT -> AgentAnswer.timedOut(request.timeoutMillis());
            case CANCELLED -> AgentAnswer.cancelled();
            case NOT_INSTALLED -> AgentAnswer.notInstalled(result.reason());
            default -> new AgentAnswer(OcfExit.ERR_GENERIC.code(), ExecStatus.ERROR, result.reason(), "");
        };
    }
}
