package herd.core.cluster;

import java.util.Objects;

/**
 * A machine of the cluster as the cluster state records it.
 *
 * @param apiAddress host:port of the node's HTTP API
 * @param raftAddress host:port of the node's Raft endpoint; null for a worker, which does not vote
 * @param zone the failure domain (rack, room); defaults to the node's own name
 */
public record NodeInfo(String name, Role role, String apiAddress, String raftAddress, String zone) {
    public enum Role { SERVER, WORKER }

    public NodeInfo {
        Objects.requireNonNull(name);
        Objects.requireNonNull(role);
        Objects.requireNonNull(apiAddress);
        zone = zone == null || zone.isBlank() ? name : zone;
    }
}
