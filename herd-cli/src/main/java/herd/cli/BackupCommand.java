package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "backup", description = {"Write a consistent snapshot of the cluster state to FILE.",
    "It holds every write acknowledged before the backup began. 'herd restore FILE' starts a new cluster from it."})
final class BackupCommand implements Callable<Integer> {
    @Mixin ClientOptions options;
    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ApiClient.Response response = Failures.check(options.client().get("/v1/backup"));
        JsonNode image = response.body();
        Path temporary = file.toAbsolutePath().resolveSibling(file.getFileName() + ".partial");
        new ObjectMapper().writeValue(temporary.toFile(), image);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        spec.commandLine().getOut().println("Wrote backup of cluster '" + image.path("clusterName").asText() + "' at revision "
            + image.path("revision").asLong() + " (" + image.path("keys").size() + " keys) to " + file);
        spec.commandLine().getOut().flush();
        return ExitCode.OK;
    }
}
