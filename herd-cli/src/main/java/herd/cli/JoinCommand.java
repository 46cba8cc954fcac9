package herd.cli;

import herd.server.Join;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "join", description = {"Make this machine a worker of a running cluster.",
    "A worker does not vote and holds no replica; it runs resources and stores data.",
    "Then start it with 'herd agent --data DIR'."})
final class JoinCommand implements Callable<Integer> {
    @Option(names = "--name", required = true, paramLabel = "NAME") String name;
    @Option(names = "--address", required = true, paramLabel = "HOST:PORT", description = "Address of this worker's HTTP API.") String address;
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "An empty or new data directory.") Path data;
    @Option(names = "--server", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]", description = "API address(es) of the cluster's servers.")
    String servers;
    @Option(names = "--secret-file", required = true, paramLabel = "FILE", description = "A copy of cluster.secret from a server.") Path secretFile;
    @Option(names = "--zone", paramLabel = "ZONE", description = "Failure domain (default: the name).") String zone;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DataDir dataDir = new DataDir(data);
        NodeConfig config = Join.run(dataDir, new Join.Request(name, address, zone, secretFile,
            Arrays.stream(servers.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()));
        spec.commandLine().getOut().println("Joined cluster '" + config.clusterName() + "' as worker " + config.name()
            + "; start it with: herd agent --data " + dataDir.root());
        spec.commandLine().getOut().flush();
        return ExitCode.OK;
    }
}
