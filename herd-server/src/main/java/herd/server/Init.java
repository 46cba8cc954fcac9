package herd.server;

import herd.control.ClusterSecret;
import herd.core.Rejection;
import herd.core.cluster.NameRules;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * {@code herd init}: creates a cluster of one server in an empty data directory: the node's
 * configuration, a new Raft group id, the admin token and the cluster secret. The server then starts
 * with {@code herd agent --data DIR} and writes the cluster's first entry when it leads.
 */
public final class Init {
    private Init() {}

    /** What {@code herd init} was asked for. Zero election timeouts mean the defaults. */
    public record Request(String clusterName, String name, String apiAddress, String raftAddress, String zone,
                          long electionTimeoutMinMillis, long electionTimeoutMaxMillis, long snapshotThresholdEntries) {}

    /**
     * {@code herd restore}: like {@link #run}, and the new cluster loads the keys of {@code backup}
     * (a file written by {@code herd backup}) the first time its server leads.
     */
    public static NodeConfig restore(DataDir dataDir, Request request, java.nio.file.Path backup) throws IOException {
        herd.core.StateImage image;
        try (var in = Files.newInputStream(backup)) {
            image = herd.core.codec.Codec.readImage(in);
        } catch (IOException e) {
            throw new IllegalArgumentException(backup + " is not a herd backup (" + e.getMessage()
                + "): give a file written by 'herd backup'");
        }
        if (image.formatVersion() != herd.core.StateImage.FORMAT_VERSION) {
            throw new IllegalArgumentException(backup + " has backup format " + image.formatVersion()
                + "; this herd reads format " + herd.core.StateImage.FORMAT_VERSION);
        }
        NodeConfig config = run(dataDir, request);
        Files.copy(backup, dataDir.restoreFile());
        return config;
    }

    public static NodeConfig run(DataDir dataDir, Request request) throws IOException {
        Optional<Rejection> invalid = NameRules.checkName("cluster", request.clusterName())
            .or(() -> NameRules.checkName("server", request.name()))
            .or(() -> NameRules.checkAddress("API", request.apiAddress()))
            .or(() -> NameRules.checkAddress("Raft", request.raftAddress()));
        if (invalid.isPresent()) {
            throw new IllegalArgumentException(invalid.get().message());
        }
        if (request.apiAddress().equals(request.raftAddress())) {
            throw new IllegalArgumentException("the API and Raft addresses are both " + request.apiAddress()
                + ": give them different ports");
        }
        if (dataDir.isInitialised()) {
            throw new IllegalArgumentException(dataDir.root() + " already holds node '" + dataDir.readConfig().name()
                + "': start it with 'herd agent --data " + dataDir.root() + "', or init another directory");
        }
        if (Files.isDirectory(dataDir.root()) && Files.list(dataDir.root()).findAny().isPresent()) {
            throw new IllegalArgumentException(dataDir.root() + " is not empty: give an empty or new directory");
        }
        dataDir.create();
        dataDir.writeClusterSecret(ClusterSecret.generate().toBytes());
        dataDir.writeAdminToken("admin-" + DataDir.newSecret(new SecureRandom()));
        NodeConfig config = new NodeConfig(request.name(), NodeConfig.SERVER, request.clusterName(), request.apiAddress(),
            request.raftAddress(), request.zone(), UUID.randomUUID().toString(), true,
            Map.of(request.name(), request.raftAddress()), List.of(), null, null,
            request.electionTimeoutMinMillis(), request.electionTimeoutMaxMillis(), request.snapshotThresholdEntries());
        dataDir.writeConfig(config);
        return config;
    }
}
