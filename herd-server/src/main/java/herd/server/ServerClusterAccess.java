package herd.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.control.CallDeadlines;
import herd.control.ControlPlaneException;
import herd.control.ControlPlaneNode;
import herd.control.ControlPlaneUnavailableException;
import herd.control.Member;
import herd.control.MembershipChangeRefusedException;
import herd.control.ServerStatus;
import herd.core.ErrorCode;
import herd.core.cluster.NodeInfo;
import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.server.api.ApiException;
import herd.server.api.JsonViews;
import herd.server.config.NodeConfig;
import herd.server.state.AppliedSignal;
import herd.server.state.ClusterStateApplication;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;

/** {@link ClusterAccess} on a server: it holds a replica of the state and a Raft server. */
public final class ServerClusterAccess implements ClusterAccess {
    /** How long one server's row may take in {@code server list} before it shows as unreachable. */
    static final Duration PEER_STATUS_TIMEOUT = Duration.ofSeconds(2);
    /** Longer than the control plane's own operation timeout, so its clearer error arrives first. */
    static final long CALL_TIMEOUT_SECONDS = 30;
    /** Bounds the calls that return futures (see {@link CallDeadlines}; a timed wait bounds the others). */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    /** How long a membership change waits for a leader to be elected: a few election rounds. */
    static final Duration LEADER_WAIT = Duration.ofSeconds(10);

    /**
     * Writes and linearizable reads one server lets wait for the control plane at once; more
     * concurrent clients than this per server get 503 and retry.
     */
    static final int IN_FLIGHT_MAX = 64;

    private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(IN_FLIGHT_MAX);
    private final ControlPlaneNode node;
    private final ClusterStateApplication application;
    private final NodeConfig config;
    private final PeerApi peers;
    private final ServerAdoption adoption;
    private final String adminToken;

    public ServerClusterAccess(ControlPlaneNode node, ClusterStateApplication application, NodeConfig config, PeerApi peers,
                               ServerAdoption adoption, String adminToken) {
        this.adminToken = adminToken;
        this.node = node;
        this.application = application;
        this.config = config;
        this.peers = peers;
        this.adoption = adoption;
    }

    @Override
    public Outcome submit(Command command) throws ApiException {
        byte[] encoded = Codec.encode(command);
        return Codec.decodeOutcome(withSlot("the write", () -> await(node.submit(encoded), "the write")));
    }

    @Override
    public CompletableFuture<Outcome> submitAsync(Command command, Executor answerOn) {
        byte[] encoded = Codec.encode(command);
        return withSlotAsync("the write", () -> node.submit(encoded)).thenApplyAsync(Codec::decodeOutcome, answerOn);
    }

    @Override
    public byte[] appendForwarded(byte[] entry) throws ApiException {
        CompletableFuture<byte[]> appended;
        try {
            appended = node.appendForwarded(entry);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("the forwarded entry is damaged: " + e.getMessage());
        }
        try {
            return await(appended, "the forwarded write");
        } catch (ApiException e) {
            if (appended.isCompletedExceptionally() && appended.exceptionNow() instanceof herd.control.EntryNotAppendedException) {
                throw new ApiException(421, ErrorCode.NO_LEADER, appended.exceptionNow().getMessage() + "; nothing was appended");
            }
            throw e;
        }
    }

    @Override
    public QueryResult query(Query query, boolean linearizable) throws ApiException {
        if (!linearizable) {
            return application.query(query);
        }
        byte[] encoded = Codec.encode(query);
        return Codec.decodeQueryResult(withSlot("the read", () -> await(node.readLinearizable(encoded), "the read")));
    }

    @Override
    public CompletableFuture<QueryResult> queryAsync(Query query, boolean linearizable, Executor answerOn) {
        if (!linearizable) {
            return CompletableFuture.completedFuture(application.query(query));
        }
        byte[] encoded = Codec.encode(query);
        return withSlotAsync("the read", () -> node.readLinearizable(encoded)).thenApplyAsync(Codec::decodeQueryResult, answerOn);
    }

    private interface ControlPlaneCall {
        byte[] run() throws ApiException;
    }

    /**
     * Runs a call while holding one of {@link #IN_FLIGHT_MAX} slots, or answers 503 at once. While
     * there is no leader, every call waits and retries for up to the control plane's operation
     * timeout, and HTTP clients that gave up meanwhile do not cancel it: without a bound those
     * calls pile up and their retries slow down the election and the new leader they wait for.
     */
    private byte[] withSlot(String what, ControlPlaneCall call) throws ApiException {
        if (!inFlight.tryAcquire()) {
            throw busy(what);
        }
        try {
            return call.run();
        } finally {
            inFlight.release();
        }
    }

    /** {@link #withSlot} for a call that does not block: the slot is held until its answer (or failure) is in. */
    private CompletableFuture<byte[]> withSlotAsync(String what, java.util.function.Supplier<CompletableFuture<byte[]>> call) {
        if (!inFlight.tryAcquire()) {
            return CompletableFuture.failedFuture(busy(what));
        }
        CompletableFuture<byte[]> answer;
        try {
            answer = answerOf(call.get(), what);
        } catch (RuntimeException e) {
            inFlight.release();
            throw e;
        }
        return answer.whenComplete((reply, error) -> inFlight.release());
    }

    private static ApiException busy(String what) {
        return new ApiException(503, ErrorCode.UNAVAILABLE, "this server already has " + IN_FLIGHT_MAX
            + " writes and reads waiting for the control plane (is a leader being elected?); " + what
            + " was not attempted: retry in a moment");
    }

    @Override
    public AppliedSignal appliedSignal() {
        return application.appliedSignal();
    }

    @Override
    public SelfStatus self() {
        ServerStatus status = node.localStatus();
        return new SelfStatus(config.name(), NodeConfig.SERVER, config.clusterName(), status.role().name().toLowerCase(Locale.ROOT),
            status.leaderName().isEmpty() ? "-" : status.leaderName(), status.term(), status.lastLogIndex(), status.commitIndex(),
            status.appliedIndex(), status.votedFor().isEmpty() ? "-" : status.votedFor());
    }

    @Override
    public List<ServerRow> servers() throws ApiException {
        // by name, so a server keeps its ID from one listing to the next
        List<Member> members = node.members().stream().sorted(java.util.Comparator.comparing(Member::name)).toList();
        Map<String, NodeInfo> nodes = nodesByName();
        List<ServerRow> rows = new ArrayList<>();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<ServerRow>> pending = new ArrayList<>();
            for (int id = 0; id < members.size(); id++) {
                int rowId = id;
                Member member = members.get(id);
                pending.add(executor.submit(() -> row(rowId, member, nodes.get(member.name()))));
            }
            for (Future<ServerRow> future : pending) {
                rows.add(future.get());
            }
        } catch (InterruptedException | ExecutionException e) {
            throw new ApiException(500, ErrorCode.INTERNAL, "could not collect the servers' status: " + e);
        }
        return rows;
    }

    private ServerRow row(int id, Member member, NodeInfo info) {
        if (member.name().equals(config.name())) {
            return row(id, member, self());
        }
        if (info == null) {
            return unreachable(id, member, "no API address recorded");
        }
        try {
            PeerApi.Reply reply = peers.get(info.apiAddress(), "/v1/self", PEER_STATUS_TIMEOUT);
            if (!reply.ok()) {
                return unreachable(id, member, reply.errorMessage());
            }
            JsonNode self = reply.body();
            return new ServerRow(id, member.name(), member.raftAddress(), self.path("raftState").asText(),
                self.path("term").asLong(), self.path("lastLogIndex").asLong(), self.path("commitIndex").asLong(),
                self.path("votedFor").asText("-"));
        } catch (IOException | InterruptedException e) {
            return unreachable(id, member, e.toString());
        }
    }

    private static ServerRow row(int id, Member member, SelfStatus self) {
        return new ServerRow(id, member.name(), member.raftAddress(), self.raftState(), self.term(), self.lastLogIndex(),
            self.commitIndex(), self.votedFor());
    }

    private static ServerRow unreachable(int id, Member member, String why) {
        return new ServerRow(id, member.name(), member.raftAddress(), "unreachable", -1, -1, -1, "-");
    }

    /**
     * Adds a server in four steps: check that the new node is up and waiting, hand it the cluster's
     * coordinates, change the Raft configuration (which waits until it has caught up), record it.
     */
    @Override
    public void addServer(String name, String apiAddress, String raftAddress) throws ApiException {
        awaitKnownLeader();
        Map<String, String> currentServers = node.members().stream().filter(Member::voting)
            .collect(Collectors.toMap(Member::name, Member::raftAddress, (a, b) -> a, java.util.LinkedHashMap::new));
        if (currentServers.containsKey(name)) {
            throw refused(name + " is already a server of the cluster");
        }
        adoption.adopt(name, apiAddress, raftAddress, currentServers);
        try {
            node.addServer(name, raftAddress);
        } catch (MembershipChangeRefusedException e) {
            throw refused(e.getMessage());
        } catch (ControlPlaneUnavailableException e) {
            throw unavailable(e.getMessage());
        }
        Outcome recorded = submit(new Command.RegisterNode(new NodeInfo(name, NodeInfo.Role.SERVER, apiAddress, raftAddress, null)));
        if (recorded instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
    }

    /**
     * A server that has just started (e.g. right after {@code herd init}) may still be electing
     * itself; a membership change waits for that instead of refusing at once.
     */
    private void awaitKnownLeader() throws ApiException {
        long deadline = System.nanoTime() + LEADER_WAIT.toNanos();
        while (node.localStatus().leaderName().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw unavailable("no leader is known after " + LEADER_WAIT.toSeconds()
                    + " s: a majority of the servers must be running; check them with 'herd server list'");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unavailable("interrupted");
            }
        }
    }

    @Override
    public void removeServer(String name) throws ApiException {
        try {
            node.removeServer(name);
        } catch (MembershipChangeRefusedException e) {
            throw refused(e.getMessage());
        } catch (ControlPlaneUnavailableException e) {
            throw unavailable(e.getMessage());
        }
        Outcome outcome = submit(new Command.RemoveNode(name));
        if (outcome instanceof Outcome.Rejected rejected && rejected.rejection().code() != ErrorCode.NODE_NOT_FOUND) {
            throw ApiException.of(rejected.rejection());
        }
    }

    @Override
    public void transferLeadership(String name) throws ApiException {
        try {
            node.transferLeadership(name);
        } catch (MembershipChangeRefusedException e) {
            throw refused(e.getMessage());
        } catch (ControlPlaneException e) {
            throw unavailable(e.getMessage());
        }
    }

    @Override
    public ObjectNode registerWorker(String name, String apiAddress, String zone) throws ApiException {
        Outcome outcome = submit(new Command.RegisterNode(new NodeInfo(name, NodeInfo.Role.WORKER, apiAddress, null, zone)));
        if (outcome instanceof Outcome.Rejected rejected) {
            throw ApiException.of(rejected.rejection());
        }
        ObjectNode reply = JsonViews.object()
            .put("clusterName", config.clusterName())
            .put("groupId", config.groupId())
            .put("adminToken", adminToken);
        ObjectNode raftPeers = reply.putObject("raftPeers");
        node.members().stream().filter(Member::voting).forEach(m -> raftPeers.put(m.name(), m.raftAddress()));
        var apis = reply.putArray("serverApiAddresses");
        nodesByName().values().stream().filter(n -> n.role() == NodeInfo.Role.SERVER).forEach(n -> apis.add(n.apiAddress()));
        return reply;
    }

    /** A linearizable read first, so the image holds every write acknowledged before the backup began. */
    @Override
    public void backup(OutputStream out) throws ApiException {
        query(new Query.Summary(), true);
        try {
            application.writeSnapshot(out);
        } catch (IOException e) {
            throw new ApiException(500, ErrorCode.INTERNAL, "could not write the backup: " + e.getMessage());
        }
    }

    private Map<String, NodeInfo> nodesByName() {
        QueryResult.NodeList list = (QueryResult.NodeList) application.query(new Query.Nodes());
        return list.nodes().stream().collect(Collectors.toMap(NodeInfo::name, Function.identity()));
    }

    static byte[] await(CompletableFuture<byte[]> future, String what) throws ApiException {
        try {
            return future.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw failure(e.getCause(), what);
        } catch (TimeoutException e) {
            throw failure(e, what);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, ErrorCode.UNAVAILABLE, "interrupted");
        }
    }

    /**
     * {@link #await} without blocking: {@code future}'s answer, bounded by the same timeout, failing
     * with the same {@link ApiException}s. {@code future} itself is left alone: it may be shared.
     */
    static CompletableFuture<byte[]> answerOf(CompletableFuture<byte[]> future, String what) {
        return CallDeadlines.bound(future, CALL_TIMEOUT).exceptionallyCompose(error -> {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
            return CompletableFuture.failedFuture(failure(cause, what));
        });
    }

    /** What a caller is told when a call to the control plane failed with {@code cause}. */
    private static ApiException failure(Throwable cause, String what) {
        if (cause instanceof ControlPlaneUnavailableException) {
            return unavailable(cause.getMessage() + " (" + what + " may or may not have taken effect: check, then retry)");
        }
        if (cause instanceof TimeoutException) {
            return unavailable("no answer within " + CALL_TIMEOUT_SECONDS + " s; " + what
                + " may or may not have taken effect: check, then retry");
        }
        return new ApiException(503, ErrorCode.UNAVAILABLE, what + " failed: " + cause);
    }

    private static ApiException refused(String message) {
        return new ApiException(409, ErrorCode.MEMBERSHIP_REFUSED, message);
    }

    private static ApiException unavailable(String message) {
        return new ApiException(503, ErrorCode.NO_LEADER, message);
    }

    /** The adoption request a waiting node receives: everything it needs to start as a server. */
    static ObjectNode adoptionRequest(NodeConfig leaderConfig, String name, String apiAddress, String raftAddress,
                                      Map<String, String> currentServers, String adminToken) {
        ObjectNode body = JsonViews.object()
            .put("name", name)
            .put("role", NodeConfig.SERVER)
            .put("clusterName", leaderConfig.clusterName())
            .put("groupId", leaderConfig.groupId())
            .put("apiAddress", apiAddress)
            .put("raftAddress", raftAddress)
            .put("adminToken", adminToken)
            .put("electionTimeoutMinMillis", leaderConfig.electionTimeoutMinMillis())
            .put("electionTimeoutMaxMillis", leaderConfig.electionTimeoutMaxMillis())
            .put("snapshotThresholdEntries", leaderConfig.snapshotThresholdEntries());
        ObjectNode peersNode = body.putObject("raftPeers");
        currentServers.forEach(peersNode::put);
        return body;
    }
}
