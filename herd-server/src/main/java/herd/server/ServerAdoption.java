package herd.server;

import com.fasterxml.jackson.databind.JsonNode;
import herd.core.ErrorCode;
import herd.server.api.ApiException;
import herd.server.config.NodeConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * The first half of adding a server: the new machine runs {@code herd agent --join} and waits; this
 * checks that it is the node the operator named, hands it the cluster's coordinates, and waits
 * until its Raft server is up. The Raft configuration change follows.
 */
public final class ServerAdoption {
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** How long a newly adopted node may take to start its Raft server. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final NodeConfig ownConfig;
    private final String adminToken;
    private final PeerApi peers;

    public ServerAdoption(NodeConfig ownConfig, String adminToken, PeerApi peers) {
        this.ownConfig = ownConfig;
        this.adminToken = adminToken;
        this.peers = peers;
    }

    void adopt(String name, String apiAddress, String raftAddress, Map<String, String> currentServers) throws ApiException {
        JsonNode health = health(apiAddress);
        String reportedName = health.path("node").asText();
        if (!reportedName.equals(name)) {
            throw refused("the node at " + apiAddress + " calls itself '" + reportedName + "', not '" + name
                + "': check the name and address");
        }
        String status = health.path("status").asText();
        if (status.equals("waiting")) {
            if (!raftAddress.equals(health.path("raftAddress").asText())) {
                throw refused("the node at " + apiAddress + " listens for Raft on " + health.path("raftAddress").asText()
                    + ", not " + raftAddress + ": pass --raft-address to match");
            }
            PeerApi.Reply reply = call(() -> peers.post(apiAddress, "/v1/internal/adopt",
                ServerClusterAccess.adoptionRequest(ownConfig, name, apiAddress, raftAddress, currentServers, adminToken),
                CALL_TIMEOUT), apiAddress);
            if (!reply.ok()) {
                throw refused("the node at " + apiAddress + " refused to join: " + reply.errorMessage());
            }
        } else if (!status.equals("ok")) {
            throw refused("the node at " + apiAddress + " is in state '" + status + "'; start it with 'herd agent --join'");
        }
        awaitRunning(apiAddress);
    }

    private void awaitRunning(String apiAddress) throws ApiException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                PeerApi.Reply reply = peers.get(apiAddress, "/v1/health", CALL_TIMEOUT);
                if (reply.ok() && reply.body().path("status").asText().equals("ok")) {
                    return;
                }
            } catch (IOException e) {
                // it is restarting as a server; try again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw refused("interrupted");
            }
            sleep(200);
        }
        throw refused("the node at " + apiAddress + " did not come up as a server within " + START_TIMEOUT.toSeconds()
            + " s: look at its log");
    }

    private JsonNode health(String apiAddress) throws ApiException {
        PeerApi.Reply reply = call(() -> peers.get(apiAddress, "/v1/health", CALL_TIMEOUT), apiAddress);
        if (!reply.ok() || reply.body() == null) {
            throw refused("the node at " + apiAddress + " answered " + reply.status() + " to a health check");
        }
        return reply.body();
    }

    private interface Call {
        PeerApi.Reply run() throws IOException, InterruptedException;
    }

    private static PeerApi.Reply call(Call call, String apiAddress) throws ApiException {
        try {
            return call.run();
        } catch (IOException e) {
            throw refused("cannot reach the new node at " + apiAddress + " (" + e
                + "): start it first with 'herd agent --join --name NAME --address " + apiAddress + " --data DIR --secret-file FILE'");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw refused("interrupted");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ApiException refused(String message) {
        return new ApiException(409, ErrorCode.MEMBERSHIP_REFUSED, message);
    }
}
