package herd.agent.runner;

import herd.agent.OcfExit;
import herd.agent.OperationRequest;
import herd.agent.exec.ChildCommand;
import herd.agent.exec.ProcessLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs LSB init scripts and maps their exit codes to OCF codes, as Pacemaker does. */
public final class LsbRunner implements AgentRunner {

    private final Path lsbDirectory;
    private final ProcessLauncher launcher;

    public LsbRunner(Path lsbDirectory, ProcessLauncher launcher) {
        this.lsbDirectory = lsbDirectory;
        this.launcher = launcher;
    }

    /** LSB status codes: 0 running; 1, 2, 3 not running (dead with pid file, dead with lock, stopped); 4 unknown. */
    public static int statusToOcf(int lsbCode) {
        return switch (lsbCode) {
            case 0 -> OcfExit.OK.code();
            case 1, 2, 3 -> OcfExit.NOT_RUNNING.code();
            default -> OcfExit.ERR_GENERIC.code();
        };
    }

    /** LSB codes of other actions: 0 success, 5 program not installed, anything else an error. */
    public static int actionToOcf(int lsbCode) {
        return switch (lsbCode) {
            case 0 -> OcfExit.OK.code();
            case 5 -> OcfExit.ERR_INSTALLED.code();
            default -> OcfExit.ERR_GENERIC.code();
        };
    }

    @Override
    public AgentAnswer run(OperationRequest request) {
        Path script = lsbDirectory.resolve(request.agent().type());
        if (request.action().equals(OcfRunner.META_DATA)) {
            return AgentAnswer.metadata(BuiltInMetadata.lsb(request.agent().type()));
        }
        if (!Files.isRegularFile(script)) {
            return AgentAnswer.notInstalled("init script " + script + " not found");
        }
        if (!Files.isExecutable(script)) {
            return AgentAnswer.notInstalled("init script " + script + " is not executable");
        }
        return switch (request.action()) {
            case "monitor", "status" -> status(script, request);
            case "start", "restart", "reload", "force-reload" -> action(script, request.action(), request);
            case "stop" -> stop(script, request);
            default -> AgentAnswer.notSupported(request.agent().toString(), request.action());
        };
    }

    private AgentAnswer status(Path script, OperationRequest request) {
        return ChildAnswers.fromCodes(launcher.run(command(script, "status", request)), request.agent().toString(),
            LsbRunner::statusToOcf);
    }

    private AgentAnswer action(Path script, String action, OperationRequest request) {
        return ChildAnswers.fromCodes(launcher.run(command(script, action, request)), request.agent().toString(),
            LsbRunner::actionToOcf);
    }

    /** Many init scripts fail to stop a stopped service; for Pacemaker that is success. */
    private AgentAnswer stop(Path script, OperationRequest request) {
        AgentAnswer stopped = action(script, "stop", request);
        if (stopped.rc() == OcfExit.ERR_GENERIC.code() && stopped.status() == herd.agent.ExecStatus.DONE
            && status(script, request).rc() == OcfExit.NOT_RUNNING.code()) {
            return AgentAnswer.ok();
        }
        return stopped;
    }

    private static ChildCommand command(Path script, String action, OperationRequest request) {
        return ChildCommand.of(List.of(script.toString(), action), request.timeoutMillis());
    }
}
