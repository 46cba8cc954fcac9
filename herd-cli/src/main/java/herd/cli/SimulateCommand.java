package herd.cli;

import herd.scheduler.simulate.Simulator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "simulate", description = {"Show what herd's scheduler would do with a cluster, in crm_simulate's layout:",
    "current status, transition summary, the actions, the revised status. Nothing is changed.",
    "Reads a Pacemaker CIB (configuration and status sections); see docs/scheduler.md."})
final class SimulateCommand implements Callable<Integer> {
    @Option(names = {"--cib", "-x"}, paramLabel = "FILE.xml",
        description = "A Pacemaker CIB, e.g. from 'cibadmin -Q'. Without it, the live cluster's configuration and nodes.")
    Path cib;
    @Option(names = "--config", paramLabel = "FILE.crm",
        description = "With the live cluster: try this configuration (crm shell syntax) instead of the current one, to see what it would do before loading it.")
    Path config;
    @picocli.CommandLine.Mixin ClientOptions options;
    @Option(names = {"--show-scores", "-s"}, description = "Print the allocation and promotion scores behind every placement.")
    boolean showScores;
    @Option(names = "--node-fail", paramLabel = "NODE", description = "Treat NODE as failed (repeatable).")
    List<String> nodeFail = new ArrayList<>();
    @Option(names = "--op-fail", paramLabel = "RSC_TASK_MS@NODE=RC", description = "Inject an operation result, as crm_simulate's --op-fail (repeatable).")
    List<String> opFail = new ArrayList<>();
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (cib == null) {
            return simulateLive();
        }
        String xml;
        try {
            xml = Files.readString(cib, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException(ExitCode.USAGE, "cannot read " + cib + ": " + e.getMessage());
        }
        String report;
        try {
            report = Simulator.simulate(xml, new Simulator.Options(showScores, nodeFail, opFail), System.currentTimeMillis() / 1000);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, cib + ": " + e.getMessage());
        }
        spec.commandLine().getOut().print(report);
        spec.commandLine().getOut().flush();
        return ExitCode.OK;
    }

    /** The cluster's (or a candidate) configuration on its nodes, as they are now. */
    private int simulateLive() {
        ApiClient client = options.client();
        String crm = config != null ? ConfigureCommands.checked(ConfigureCommands.read(config), config.toString())
            : Failures.check(client.get("/v1/configuration")).body().path("crm").asText();
        List<String> nodes = new ArrayList<>();
        Failures.check(client.get("/v1/nodes")).body().path("nodes").forEach(node -> nodes.add(node.path("name").asText()));
        String report;
        try {
            report = Simulator.simulateLive(herd.scheduler.crm.CrmShell.parse(crm), nodes,
                new Simulator.Options(showScores, nodeFail, opFail), System.currentTimeMillis() / 1000);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, e.getMessage());
        }
        spec.commandLine().getOut().print(report);
        spec.commandLine().getOut().flush();
        return ExitCode.OK;
    }
}
