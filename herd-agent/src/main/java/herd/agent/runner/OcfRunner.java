package herd.agent.runner;

import herd.agent.ExecutorSettings;
import herd.agent.OperationRequest;
import herd.agent.exec.ChildCommand;
import herd.agent.exec.ProcessLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs {@code $OCF_ROOT/resource.d/<provider>/<type> <action>}. */
public final class OcfRunner implements AgentRunner {

    public static final String META_DATA = "meta-data";

    private final ExecutorSettings settings;
    private final ProcessLauncher launcher;

    public OcfRunner(ExecutorSettings settings, ProcessLauncher launcher) {
        this.settings = settings;
        this.launcher = launcher;
    }

    public Path agentPath(OperationRequest request) {
        return settings.ocfRoot().resolve("resource.d").resolve(request.agent().provider()).resolve(request.agent().type());
    }

    @Override
    public AgentAnswer run(OperationRequest request) {
        Path agent = agentPath(request);
        if (!Files.isRegularFile(agent)) {
            return AgentAnswer.notInstalled("agent " + agent + " not found");
        }
        if (!Files.isExecutable(agent)) {
            return AgentAnswer.notInstalled("agent " + agent + " is not executable");
        }
        int outputLimit = request.action().equals(META_DATA) ? ChildCommand.METADATA_LIMIT_BYTES : ChildCommand.OUTPUT_TAIL_BYTES;
        ChildCommand command = new ChildCommand(List.of(agent.toString(), request.action()),
            OcfEnvironment.build(settings, request), null, null, request.timeoutMillis(), outputLimit);
        return ChildAnswers.fromOcf(launcher.run(command), request.agent().toString());
    }
}
