package herd.cli;

import herd.server.Init;
import herd.server.config.DataDir;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "restore", description = {"Create a new one-server cluster from a backup FILE (written by 'herd backup').",
    "The keys keep their revisions. Start the server with 'herd agent --data DIR'; it loads the keys",
    "(with progress lines in its log) before it accepts writes. Then add servers as usual."})
final class RestoreCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE") Path backup;
    @Option(names = "--name", required = true, paramLabel = "NAME") String name;
    @Option(names = "--address", required = true, paramLabel = "HOST:PORT") String address;
    @Option(names = "--raft-address", paramLabel = "HOST:PORT") String raftAddress;
    @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
    @Option(names = "--cluster-name", paramLabel = "NAME", defaultValue = "herd") String clusterName;
    @Option(names = "--zone", paramLabel = "ZONE") String zone;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DataDir dataDir = new DataDir(data);
        String raft = raftAddress != null ? raftAddress : herd.core.cluster.NameRules.defaultRaftAddress(address);
        Init.restore(dataDir, new Init.Request(clusterName, name, address, raft, zone, 0, 0, 0), backup);
        spec.commandLine().getOut().println("Created cluster '" + clusterName + "' from " + backup + " in " + dataDir.root()
            + "; start it with: herd agent --data " + dataDir.root());
        spec.commandLine().getOut().flush();
        return ExitCode.OK;
    }
}
