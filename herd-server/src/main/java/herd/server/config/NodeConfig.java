package herd.server.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * What a node needs to start again after a restart, kept in {@code DATA/node.json}. Secrets are not
 * here: they live in their own files with mode 0600 (see {@link DataDir}).
 *
 * @param role {@code server} (votes in the Raft group) or {@code worker}
 * @param apiAddress HOST:PORT of the HTTP API; the API listens on exactly this address
 * @param raftAddress HOST:PORT of the Raft endpoint (servers only)
 * @param groupId the Raft group of the cluster, created at init
 * @param founder true on the server that ran {@code herd init}: it writes the cluster's first entry
 * @param initialRaftPeers server name -> Raft address at the time this node first started: itself for
 *        the founder, the existing servers for a server that joined; later starts recover membership from
 *        the Raft log, so this is only a starting point
 * @param serverApiAddresses API addresses of the servers a worker talks to (workers only)
 * @param leaderHook command run when this server becomes leader (servers only; may be null)
 * @param followerHook command run when this server stops being leader (may be null)
 * @param electionTimeoutMinMillis lower end of the election timeout; 0 for the control plane's default
 * @param snapshotThresholdEntries a snapshot is taken after at least this many log entries (and as
 *     many bytes of log as the last snapshot has); 0 for the default
 * @param nbdAddress HOST:PORT the node's NBD server listens on; null for 127.0.0.1:10809 (loopback)
 *        (see herd.server.storage.StorageSettings)
 * @param nbdSocket the absolute path of a Unix socket the node also serves NBD on; null for none
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record NodeConfig(
    String name,
    String role,
    String clusterName,
    String apiAddress,
    String raftAddress,
    String zone,
    String groupId,
    boolean founder,
    java.util.Map<String, String> initialRaftPeers,
    List<String> serverApiAddresses,
    List<String> leaderHook,
    List<String> followerHook,
    long electionTimeoutMinMillis,
    long electionTimeoutMaxMillis,
    long snapshotThresholdEntries,
    String nbdAddress,
    String nbdSocket) {

    public static final String SERVER = "server";
    public static final String WORKER = "worker";

    /** A configuration with the default NBD address and no NBD socket (as written before the settings existed). */
    public NodeConfig(String name, String role, String clusterName, String apiAddress, String raftAddress, String zone,
                      String groupId, boolean founder, java.util.Map<String, String> initialRaftPeers,
                      List<String> serverApiAddresses, List<String> leaderHook, List<String> followerHook,
                      long electionTimeoutMinMillis, long electionTimeoutMaxMillis, long snapshotThresholdEntries) {
        this(name, role, clusterName, apiAddress, raftAddress, zone, groupId, founder, initialRaftPeers, serverApiAddresses,
            leaderHook, followerHook, electionTimeoutMinMillis, electionTimeoutMaxMillis, snapshotThresholdEntries, null, null);
    }

    public NodeConfig withNbdAddress(String address) {
        return new NodeConfig(name, role, clusterName, apiAddress, raftAddress, zone, groupId, founder,
            initialRaftPeers, serverApiAddresses, leaderHook, followerHook, electionTimeoutMinMillis, electionTimeoutMaxMillis,
            snapshotThresholdEntries, address, nbdSocket);
    }

    /** With {@code socket} (null for none) as the NBD socket. */
    public NodeConfig withNbdSocket(String socket) {
        return new NodeConfig(name, role, clusterName, apiAddress, raftAddress, zone, groupId, founder,
            initialRaftPeers, serverApiAddresses, leaderHook, followerHook, electionTimeoutMinMillis, electionTimeoutMaxMillis,
            snapshotThresholdEntries, nbdAddress, socket);
    }

    public boolean isServer() {
        return SERVER.equals(role);
    }

    public NodeConfig withHooks(List<String> leader, List<String> follower) {
        return new NodeConfig(name, role, clusterName, apiAddress, raftAddress, zone, groupId, founder,
            initialRaftPeers, serverApiAddresses, leader, follower, electionTimeoutMinMillis, electionTimeoutMaxMillis,
            snapshotThresholdEntries, nbdAddress, nbdSocket);
    }
}
