package herd.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.control.ControlPlaneClient;
import herd.core.ErrorCode;
import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.server.api.ApiException;
import herd.server.api.JsonViews;
import herd.server.config.NodeConfig;
import herd.server.state.AppliedSignal;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@link ClusterAccess} on a worker: it holds no replica, so every read goes through the leader
 * (a "local" read is linearizable too), and membership calls are passed to a server's API.
 * Watch streams are woken by polling the cluster's applied index.
 */
public final class WorkerClusterAccess implements ClusterAccess, AutoCloseable {
    /** How often a worker looks for new changes to wake its watch streams. */
    static final long WATCH_POLL_MILLIS = 300;
    static final Duration SERVER_CALL_TIMEOUT = Duration.ofSeconds(30);

    private final ControlPlaneClient client;
    private final NodeConfig config;
    private final PeerApi peers;
    private final AppliedSignal appliedSignal = new AppliedSignal();
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "herd-worker-watch-poll");
        thread.setDaemon(true);
        return thread;
    });

    public WorkerClusterAccess(ControlPlaneClient client, NodeConfig config, PeerApi peers) {
        this.client = client;
        this.config = config;
        this.peers = peers;
        poller.scheduleWithFixedDelay(this::pollAppliedIndex, 0, WATCH_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void pollAppliedIndex() {
        try {
            QueryResult result = query(new Query.Summary(), true);
            if (result instanceof QueryResult.ClusterSummary summary) {
                appliedSignal.advance(summary.lastAppliedIndex());
            }
        } catch (ApiException | RuntimeException e) {
            // no leader right now: streams simply wait longer
        }
    }

    @Override
    public Outcome submit(Command command) throws ApiException {
        return Codec.decodeOutcome(ServerClusterAccess.await(client.submit(Codec.encode(command)), "the write"));
    }

    @Override
    public QueryResult query(Query query, boolean linearizable) throws ApiException {
        return Codec.decodeQueryResult(ServerClusterAccess.await(client.readLinearizable(Codec.encode(query)), "the read"));
    }

    @Override
    public CompletableFuture<Outcome> submitAsync(Command command, Executor answerOn) {
        return ServerClusterAccess.answerOf(client.submit(Codec.encode(command)), "the write")
            .thenApplyAsync(Codec::decodeOutcome, answerOn);
    }

    @Override
    public CompletableFuture<QueryResult> queryAsync(Query query, boolean linearizable, Executor answerOn) {
        return ServerClusterAccess.answerOf(client.readLinearizable(Codec.encode(query)), "the read")
            .thenApplyAsync(Codec::decodeQueryResult, answerOn);
    }

    @Override
    public AppliedSignal appliedSignal() {
        return appliedSignal;
    }

    @Override
    public SelfStatus self() {
        return new SelfStatus(config.name(), NodeConfig.WORKER, config.clusterName(), "-", "-", -1, -1, -1,
            herd.control.LogPosition.logIndexOf(appliedSignal.appliedIndex()), "-");
    }

    @Override
    public List<ServerRow> servers() throws ApiException {
        JsonNode body = onServer("GET", "/v1/servers", null);
        List<ServerRow> rows = new ArrayList<>();
        for (JsonNode row : body.path("servers")) {
            rows.add(new ServerRow(row.path("id").asInt(), row.path("name").asText(), row.path("endpoint").asText(),
                row.path("state").asText(), row.path("term").asLong(), row.path("index").asLong(), row.path("commit").asLong(),
                row.path("vote").asText()));
        }
        return rows;
    }

    @Override
    public void addServer(String name, String apiAddress, String raftAddress) throws ApiException {
        onServer("POST", "/v1/servers", JsonViews.object().put("name", name).put("address", apiAddress).put("raftAddress", raftAddress));
    }

    @Override
    public void removeServer(String name) throws ApiException {
        onServer("DELETE", "/v1/servers/" + name, null);
    }

    @Override
    public void transferLeadership(String name) throws ApiException {
        onServer("POST", "/v1/servers/" + name + "/transfer-leadership", JsonViews.object());
    }

    @Override
    public ObjectNode registerWorker(String name, String apiAddress, String zone) throws ApiException {
        return (ObjectNode) onServer("POST", "/v1/nodes", JsonViews.object().put("name", name).put("address", apiAddress)
            .put("zone", zone));
    }

    @Override
    public void backup(OutputStream out) throws ApiException {
        JsonNode image = onServer("GET", "/v1/backup", null);
        try {
            out.write(JsonViews.MAPPER.writeValueAsBytes(image));
        } catch (IOException e) {
            throw new ApiException(500, ErrorCode.INTERNAL, "could not write the backup: " + e.getMessage());
        }
    }

    /** Passes a call to the first server that answers; its error, if any, becomes ours. */
    private JsonNode onServer(String method, String path, JsonNode body) throws ApiException {
        IOException lastFailure = null;
        for (String server : config.serverApiAddresses()) {
            try {
                PeerApi.Reply reply = peers.send(server, path, method, body, SERVER_CALL_TIMEOUT);
                if (!reply.ok()) {
                    JsonNode error = reply.body().path("error");
                    throw new ApiException(reply.status(), ErrorCode.fromWireName(error.path("code").asText("internal")),
                        error.path("message").asText());
                }
                return reply.body();
            } catch (IOException e) {
                lastFailure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(503, ErrorCode.UNAVAILABLE, "interrupted");
            }
        }
        throw new ApiException(503, ErrorCode.UNAVAILABLE, "no server answered (" + lastFailure
            + "): check that the servers " + config.serverApiAddresses() + " are running");
    }

    @Override
    public void close() throws IOException {
        poller.shutdownNow();
        client.close();
    }
}
