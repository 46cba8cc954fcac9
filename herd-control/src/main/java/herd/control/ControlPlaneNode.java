package herd.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One control-plane server: a Ratis server (gRPC) replicating a {@link ReplicatedApplication}.
 *
 * <h2>Lifecycle</h2>
 * <ol>
 *   <li><b>Init a new cluster.</b> Create the group id ({@code UUID.randomUUID()}) and the cluster
 *       secret ({@link ClusterSecret#generate()}, stored with mode 0600), then start the first
 *       server with itself as the only initial peer:
 *       {@code ControlPlaneConfig.builder().nodeName(n).raftAddress(a).dataDirectory(d).groupId(g)
 *       .initialPeer(n, a).clusterSecret(s).build()}. It formats its data directory, elects itself
 *       and is a one-server cluster.</li>
 *   <li><b>Join.</b> Start the new server with the same group id and, as initial peers, the
 *       <em>current</em> servers (not itself). Because it is not among its initial peers, its Raft
 *       server starts with an empty configuration (the peers only serve its client): it never
 *       starts an election and forms no cluster of its own, it waits for the leader.
 *       It needs the same cluster secret (copy the file).</li>
 *   <li><b>Add.</b> On any server call {@link #addServer(String, String)} with the new server's
 *       name and address. The leader first streams the log, or its latest snapshot when the log
 *       was purged, to the new server; once it has caught up the configuration change is
 *       committed and the new server votes. Add one server at a time; the call refuses while
 *       another change is in flight or while a current server is unreachable or lagging.</li>
 *   <li><b>Restart.</b> Start with the same configuration: a data directory that already holds
 *       this group is recovered (log, vote, snapshot, membership), whatever the initial peers say.
 *       This works for one server or for all of them after they were killed at once.</li>
 *   <li><b>Remove.</b> {@link #removeServer(String)}; the removed server stops its Raft service.</li>
 * </ol>
 *
 * <h2>Leadership</h2>
 * A watchdog thread re-evaluates, every {@code watchdogPeriod} and on every Ratis leader event,
 * whether this server is an <em>acting leader</em>: Raft leader, ready (committed an entry of its
 * term), and acknowledged by a majority within {@code leaderAckBound}. Each change is reported to
 * the {@link RoleListener}. A leader that lost its majority is reported as not leader at most
 * {@code leaderAckBound + watchdogPeriod} after the last acknowledgement from a majority, which is
 * below {@code electionTimeoutMin}: before any other server can even start an election. If the
 * majority answers again in time it acts as leader again (reported as a new change); if the
 * silence reaches {@code electionTimeoutMin} it steps down, without waiting for Ratis' own check
 * (after a full maximum election timeout).
 *
 * <p>Ratis runs some request handlers (group info) on {@code ForkJoinPool.commonPool()}, whose
 * parallelism is 1 on a 2-core machine: never block on this class' calls from that pool.
 */
public final class ControlPlaneNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneNode.class);
    /** A follower further behind the leader's commit index than this is lagging. */
    private static final long LAGGING_ENTRIES_MAX = 1000;

    private final ControlPlaneConfig config;
    private final RaftGroupId groupId;
    private final RaftPeerId selfId;
    private final RaftServer server;
    private final ApplicationStateMachine stateMachine;
    /** For submits and reads; replaced when the membership changes so it knows every server. */
    private volatile ControlPlaneClient client;
    private volatile Map<String, String> clientPeers; // written only on the watchdog thread
    /** The configuration {@link #clientPeers} was last compared with; only touched on the watchdog thread. */
    private RaftConfiguration clientPeersCheckedAgainst;
    private final RoleListener listener;
    private final ScheduledExecutorService watchdog;
    private final ExecutorService stepDowns;
    private final AtomicBoolean membershipChangeInFlight = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Entries this server has in flight before further commands wait and travel together (see
     * CommandBatcher). One: measured with bench/control-plane, 2 gave a third less throughput at
     * 16 and 64 clients, since every entry costs CPU on every server and this machine has little.
     */
    static final int ENTRIES_IN_FLIGHT_MAX = 1;
    /**
     * A follower's entries on their way to the leader before further writes wait. Many: a forwarded
     * entry joins the leader's next log entry, so one that waited behind the follower's previous entry
     * would miss a replication round. Sending is cheap over a forwarder that keeps one connection
     * (herd's entry channel). Measured with bench/control-plane/compare: 16 gave more puts at 16
     * clients and a lower p99 than 1 or 4, and as many at 64 clients; 64 gave no more.
     */
    static final int FORWARDED_ENTRIES_IN_FLIGHT_MAX = 16;
    /**
     * Pause before a follower's entry is sent again when no leader took it (see {@link #sendToLeader}):
     * short, so that the writes waiting out an election reach the new leader as soon as it is ready
     * rather than after the Raft client's backoff of up to hundreds of milliseconds.
     */
    private static final long LEADER_RETRY_PAUSE_MILLIS = 10;
    private static final ScheduledExecutorService LEADER_RETRIES = Executors.newSingleThreadScheduledExecutor(
            daemon("herd-control-leader-retries"));
    /** Writes while this server leads: straight into its own Raft server. */
    private final CommandBatcher toOwnServer = new CommandBatcher(ENTRIES_IN_FLIGHT_MAX, this::appendHere);
    /** Writes while another server leads: forwarded to it (see {@link #sendToLeader}). */
    private final CommandBatcher toLeader = new CommandBatcher(FORWARDED_ENTRIES_IN_FLIGHT_MAX, this::sendToLeader);
    /** How this server's writes reach another leader; null: through the Raft client alone. */
    private volatile LeaderForwarder forwarder;
    /** Linearizable reads: those asked while a round is in flight share the next one. */
    private final CommandBatcher reads = new CommandBatcher(ENTRIES_IN_FLIGHT_MAX, this::readOnce, CommandBatch::unpackAnswer);
    /** Identifies the requests this node hands to its own Raft server (see {@link #submitToSelf}). */
    private final ClientId localClientId = ClientId.randomId();
    private final AtomicLong localCallIds = new AtomicLong();
    // Only touched on the watchdog thread.
    private boolean reportedLeader;
    private long reportedTerm = -1;
    private boolean stepDownRequested;
    private boolean roleCheckFailing;
    /** The leader the watchdog saw last, and whether it was this server, ready; null while there was none. */
    private LeaderSeen seenLeader;
    /** Recorded by the watchdog while this server follows; read when it has become leader. */
    private volatile LeaderContact lastLeaderContact;

    private ControlPlaneNode(ControlPlaneConfig config, ReplicatedApplication application, RoleListener listener)
            throws IOException {
        this.config = config;
        this.listener = listener;
        this.groupId = RaftGroupId.valueOf(config.groupId());
        this.selfId = RaftPeerId.valueOf(config.nodeName());
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                daemon("herd-control-watchdog-" + config.nodeName()));
        this.stepDowns = Executors.newSingleThreadExecutor(daemon("herd-control-stepdown-" + config.nodeName()));
        this.stateMachine = new ApplicationStateMachine(application, config.nodeName(), this::evaluateSoon);
        final boolean recover = holdsGroup(config);
        LOG.info("{}: {} group {} in {}", config.nodeName(), recover ? "recovering" : "formatting",
                config.groupId(), config.dataDirectory());
        Files.createDirectories(config.dataDirectory());
        this.server = newServer(config, recover);
        try {
            this.server.start();
        } catch (IOException | RuntimeException e) {
            watchdog.shutdownNow();
            stepDowns.shutdownNow();
            server.close();
            throw e;
        }
        this.clientPeers = knownPeers();
        this.client = ControlPlaneClient.connect(config.groupId(), clientPeers, config.clusterSecret(),
                config.requestTimeout(), config.operationTimeout());
        final long periodMillis = config.watchdogPeriod().toMillis();
        watchdog.scheduleWithFixedDelay(this::evaluateRole, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    private RaftServer newServer(ControlPlaneConfig config, boolean recover) throws IOException {
        return RaftServer.newBuilder()
                .setServerId(selfId)
                .setGroup(config.bootstraps()
                        ? RaftSettings.group(config.groupId(), config.initialPeers())
                        // A joining server starts with an empty configuration: it cannot vote or
                        // campaign until the leader's configuration entry reaches it.
                        : RaftGroup.valueOf(groupId))
                .setStateMachine(stateMachine)
                .setProperties(RaftSettings.serverProperties(config))
                .setParameters(RaftSettings.parameters(config.clusterSecret()))
                .setOption(recover ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .build();
    }

    /**
     * Starts the server: formats a new data directory or recovers an existing one.
     *
     * @param application a fresh application (empty state); the node restores it from the
     *                    snapshot and log on disk
     */
    public static ControlPlaneNode start(ControlPlaneConfig config, ReplicatedApplication application,
                                         RoleListener listener) throws IOException {
        Objects.requireNonNull(application, "application");
        return new ControlPlaneNode(config, application, listener == null ? RoleListener.NONE : listener);
    }

    /** True when the data directory already holds this group's Raft storage. */
    static boolean holdsGroup(ControlPlaneConfig config) {
        final Path groupDirectory = config.dataDirectory().resolve(config.groupId().toString());
        return Files.isDirectory(groupDirectory.resolve("current"));
    }

    public String name() {
        return config.nodeName();
    }

    public ControlPlaneConfig config() {
        return config;
    }

    /**
     * Appends a command through the leader; completes with the reply once it is applied. When this
     * server leads, the command goes straight to its own Raft server; otherwise the client
     * forwards it to the leader.
     *
     * <p>The future may complete on one of the Raft server's own threads. Wait for it ({@code get},
     * {@code join}) or attach work with an {@code ...Async} method: work attached otherwise runs on
     * that thread, and work that blocks or calls this node there can hold up the Raft server itself.
     * The same holds for {@link #readLinearizable} and {@link #appendForwarded}.
     */
    public CompletableFuture<byte[]> submit(byte[] command) {
        return leadsAndIsReady() ? toOwnServer.submit(command) : toLeader.submit(command);
    }

    /**
     * Sends this server's writes to the leader through {@code forwarder} from now on, so that they
     * join the leader's own log entries; without one they go through the Raft client.
     */
    public void forwardWritesThrough(LeaderForwarder forwarder) {
        this.forwarder = forwarder;
    }

    /**
     * Sends an entry of this follower's to the leader. Through the forwarder when there is one: the
     * leader puts its commands in its next entry, with its own. While the leader certainly appended
     * nothing (no leader is known yet, this server was elected but is not ready, the leader refused
     * or could not be reached) the entry is tried again after {@link #LEADER_RETRY_PAUSE_MILLIS}, so
     * it reaches a new leader within moments of that leader being ready; after
     * {@link #leaderSearchNanos} it goes through the Raft client, which finds the leader on its own
     * and whose retries the servers recognise, so it applies once. Any other failure of the
     * forwarder leaves the outcome unknown, and the caller is told so.
     */
    private CompletableFuture<byte[]> sendToLeader(byte[] entry) {
        return sendToLeader(entry, System.nanoTime() + leaderSearchNanos());
    }

    private CompletableFuture<byte[]> sendToLeader(byte[] entry, long searchUntilNanos) {
        if (leadsAndIsReady()) {
            // This server has become the leader since the entry's commands were submitted.
            return appendHere(entry);
        }
        final LeaderForwarder through = forwarder;
        if (through == null || System.nanoTime() >= searchUntilNanos) {
            return client.submit(entry);
        }
        final RaftPeerId leader = isRaftLeader() ? selfId : division().getInfo().getLeaderId();
        if (leader == null || leader.equals(selfId)) {
            return sendLater(entry, searchUntilNanos);
        }
        final CompletableFuture<byte[]> forwarded;
        try {
            forwarded = through.forward(leader.toString(), entry);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return forwarded.exceptionallyCompose(error -> {
            final Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (cause instanceof EntryNotAppendedException) {
                return sendLater(entry, searchUntilNanos);
            }
            return CompletableFuture.failedFuture(cause instanceof ControlPlaneException ? cause
                    : new ControlPlaneUnavailableException("forwarding the write to leader " + leader + " failed: "
                    + cause + "; the command may or may not have been applied", cause));
        });
    }

    /** {@link #sendToLeader} again after a short pause (never on the thread that saw the failure). */
    private CompletableFuture<byte[]> sendLater(byte[] entry, long searchUntilNanos) {
        final CompletableFuture<CompletableFuture<byte[]>> next = new CompletableFuture<>();
        LEADER_RETRIES.schedule(() -> next.complete(sendToLeader(entry, searchUntilNanos)),
                LEADER_RETRY_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
        return next.thenCompose(sent -> sent);
    }

    /** How long an entry looks for a ready leader itself: twice the longest election timeout. */
    private long leaderSearchNanos() {
        return config.electionTimeoutMax().multipliedBy(2).toNanos();
    }

    private boolean isRaftLeader() {
        try {
            return division().getInfo().isLeader();
        } catch (ControlPlaneException e) {
            return false;
        }
    }

    /**
     * Appends an entry a follower forwarded (see {@link LeaderForwarder}): its commands wait with this
     * server's own and leave in its next log entry. Completes with the reply the follower expects:
     * the command's reply, or for a batch the replies in a batch reply. Fails with
     * {@link EntryNotAppendedException} at once when this server is not the ready leader, and with
     * {@link IllegalArgumentException} for an entry that is not a command or a well-formed batch.
     */
    public CompletableFuture<byte[]> appendForwarded(byte[] entry) {
        if (!leadsAndIsReady()) {
            return CompletableFuture.failedFuture(new EntryNotAppendedException(config.nodeName()
                    + " is not the leader (or has not committed an entry of its term yet)"));
        }
        if (!CommandBatch.isBatch(entry)) {
            return toOwnServer.submit(entry);
        }
        final List<CompletableFuture<byte[]>> replies = toOwnServer.submitAll(CommandBatch.decode(entry));
        return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new))
                .thenApply(allDone -> CommandBatch.encodeReplies(replies.stream().map(CompletableFuture::join).toList()));
    }

    /** Appends an entry (one command or a batch) through this server's own Raft server. */
    private CompletableFuture<byte[]> appendHere(byte[] entry) {
        // Not retried through the client when it fails: the entry may already be in the log (a
        // leader that steps down fails its pending requests), and a second request under another
        // call id would not be recognised as the same one, so the command could apply twice.
        return client.answerLocal(submitToSelf(RaftClientRequest.writeRequestType(), entry), "submit",
                "the command may or may not have been applied");
    }

    /**
     * A read that sees every write completed before it started (ReadIndex on the leader). On the
     * leader it is served by its own Raft server; if the leadership moved meanwhile the read
     * (which changes nothing) is asked again through the client.
     */
    public CompletableFuture<byte[]> readLinearizable(byte[] query) {
        return reads.submit(query);
    }

    /** One ReadIndex round for one query or a batch of them (see {@link #readLinearizable}). */
    private CompletableFuture<byte[]> readOnce(byte[] query) {
        final ControlPlaneClient current = client;
        if (!leadsAndIsReady()) {
            return current.readLinearizable(query);
        }
        // Bounded like every other call (answerLocal): reads share rounds, so one that never ended
        // would hold up every later read of this server.
        return current.answerLocal(submitToSelf(RaftClientRequest.readRequestType(), query), "linearizable read",
                        "nothing was changed")
                .exceptionallyCompose(error -> leadershipMoved(error)
                        ? current.readLinearizable(query)
                        : CompletableFuture.failedFuture(error));
    }

    /** Whether {@code error} or one of its causes says that this server no longer leads (or not yet). */
    static boolean leadershipMoved(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof NotLeaderException || cause instanceof LeaderNotReadyException) {
                return true;
            }
        }
        return false;
    }

    /** True when this server is the Raft leader and has committed an entry of its term. */
    private boolean leadsAndIsReady() {
        try {
            final DivisionInfo info = division().getInfo();
            return info.isLeader() && info.isLeaderReady();
        } catch (ControlPlaneException e) {
            return false;
        }
    }

    /**
     * Hands a request to this server's own Raft server, as if a client had sent it over gRPC:
     * the same leader checks, ReadIndex for reads, retry cache keyed by this node's call ids.
     * The request goes to the group's division itself, on the caller's thread, and the caller does
     * not wait for its outcome. Through {@code RaftServer} Ratis would run the same call on an
     * executor of its own and block the caller until that had run it: a hand-off to another thread
     * and back on every request, and a stall for a caller that must not block (the API's event
     * loop). The division is Ratis's server implementation, which takes client requests through
     * the public {@link RaftClientAsynchronousProtocol}.
     */
    private CompletableFuture<RaftClientReply> submitToSelf(RaftClientRequest.Type type, byte[] payload) {
        final RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(localClientId)
                .setServerId(selfId)
                .setGroupId(groupId)
                .setCallId(localCallIds.incrementAndGet())
                .setMessage(ControlPlaneClient.message(payload))
                .setType(type)
                .build();
        try {
            return ((RaftClientAsynchronousProtocol) division()).submitClientRequestAsync(request);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A read of this server's own state: fast, possibly stale, works without a quorum. */
    public byte[] readLocal(byte[] query) {
        return stateMachine.queryLocal(query);
    }

    public ServerStatus localStatus() {
        final RaftServer.Division division = division();
        final DivisionInfo info = division.getInfo();
        final TermIndex last = division.getRaftLog().getLastEntryTermIndex();
        return new ServerStatus(config.nodeName(), config.raftAddress(), role(info),
                info.getCurrentTerm(), last == null ? -1 : last.getIndex(),
                division.getRaftLog().getLastCommittedIndex(), info.getLastAppliedIndex(),
                votedFor(division), Optional.ofNullable(info.getLeaderId()).map(RaftPeerId::toString).orElse(""));
    }

    /** The servers of the configuration this server currently follows (voting and not). */
    public List<Member> members() {
        final RaftConfiguration conf = division().getRaftConf();
        final List<Member> members = new ArrayList<>();
        conf.getCurrentPeers(RaftPeerRole.FOLLOWER)
                .forEach(p -> members.add(new Member(p.getId().toString(), p.getAddress(), true)));
        conf.getCurrentPeers(RaftPeerRole.LISTENER)
                .forEach(p -> members.add(new Member(p.getId().toString(), p.getAddress(), false)));
        return members;
    }

    /**
     * Adds one voting server; returns once it has caught up and the new configuration is committed.
     * The new server must already run with this group id (see the class comment).
     *
     * @throws MembershipChangeRefusedException when another change is in flight, a current server
     *         is unreachable or lagging, the name or address is taken, or there is no leader
     */
    public void addServer(String name, String raftAddress) {
        ControlPlaneConfig.requireName(name, "server name");
        HostPort.parse(raftAddress, "raft address of " + name);
        changeMembership("add " + name, current -> {
            if (current.voters().stream().anyMatch(p -> p.getId().toString().equals(name))) {
                throw new MembershipChangeRefusedException(name + " is already a voting server of the cluster");
            }
            current.voters().stream().filter(p -> raftAddress.equals(p.getAddress())).findAny().ifPresent(p -> {
                throw new MembershipChangeRefusedException("address " + raftAddress + " already belongs to server "
                        + p.getId() + ": give the new server its own address");
            });
            refuseIfUnhealthy(current);
            final List<RaftPeer> next = new ArrayList<>(current.voters());
            next.add(RaftSettings.peer(name, raftAddress));
            return next;
        });
    }

    /** Removes one voting server; the removed server stops serving Raft once the change commits. */
    public void removeServer(String name) {
        ControlPlaneConfig.requireName(name, "server name");
        changeMembership("remove " + name, current -> {
            if (current.voters().stream().noneMatch(p -> p.getId().toString().equals(name))) {
                throw new MembershipChangeRefusedException(name + " is not a voting server of the cluster; "
                        + "the servers are " + names(current.voters()));
            }
            if (current.voters().size() == 1) {
                throw new MembershipChangeRefusedException("cannot remove " + name
                        + ": it is the last server of the cluster");
            }
            return current.voters().stream().filter(p -> !p.getId().toString().equals(name)).toList();
        });
    }

    /** Asks the leader to hand leadership to {@code name}; returns once {@code name} leads. */
    public void transferLeadership(String name) {
        ControlPlaneConfig.requireName(name, "server name");
        final Configuration current = leaderConfiguration();
        if (current.voters().stream().noneMatch(p -> p.getId().toString().equals(name))) {
            throw new MembershipChangeRefusedException("cannot transfer leadership to " + name
                    + ": it is not a voting server; the servers are " + names(current.voters()));
        }
        final RaftClientReply reply;
        try (ControlPlaneClient admin = adminClient(current.leader())) {
            reply = admin.raft().admin().transferLeadership(RaftPeerId.valueOf(name), current.leader(),
                    config.operationTimeout().toMillis());
        } catch (IOException e) {
            throw new ControlPlaneException("leadership transfer to " + name + " failed: " + e.getMessage()
                    + "; check that " + name + " is running and up to date, then retry", e);
        }
        if (!reply.isSuccess()) {
            throw new ControlPlaneException("leadership transfer to " + name + " failed: "
                    + reply.getException().getMessage() + "; check that " + name + " is running and up to date");
        }
    }

    private record Configuration(RaftPeerId leader, List<RaftPeer> voters, List<RaftPeer> listeners,
                                 GroupInfoReply info) { }

    private void changeMembership(String what, Function<Configuration, List<RaftPeer>> nextVoters) {
        if (!membershipChangeInFlight.compareAndSet(false, true)) {
            throw new MembershipChangeRefusedException("cannot " + what + ": another membership change started on "
                    + config.nodeName() + " is still in flight; wait for it to finish");
        }
        try {
            final Configuration current = leaderConfiguration();
            final List<RaftPeer> next = nextVoters.apply(current);
            final SetConfigurationRequest.Arguments arguments = SetConfigurationRequest.Arguments.newBuilder()
                    .setServersInCurrentConf(current.voters())
                    .setListenersInCurrentConf(current.listeners())
                    .setServersInNewConf(next)
                    .setListenersInNewConf(current.listeners())
                    // Fails if someone changed the configuration since we looked at it.
                    .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                    .build();
            LOG.info("{}: {}: {} -> {}", config.nodeName(), what, names(current.voters()), names(next));
            final RaftClientReply reply;
            try (ControlPlaneClient admin = adminClient(current.leader())) {
                reply = admin.raft().admin().setConfiguration(arguments);
            } catch (IOException e) {
                throw refusedOrFailed(what, e);
            }
            if (!reply.isSuccess()) {
                throw refusedOrFailed(what, reply.getException());
            }
            LOG.info("{}: {}: done", config.nodeName(), what);
        } catch (RuntimeException e) {
            LOG.warn("{}: {}: {}", config.nodeName(), what, e.getMessage());
            throw e;
        } finally {
            membershipChangeInFlight.set(false);
        }
    }

    private ControlPlaneException refusedOrFailed(String what, Exception failure) {
        final Throwable e = rootRaftCause(failure);
        if (e instanceof NotLeaderException || e instanceof LeaderNotReadyException) {
            return new MembershipChangeRefusedException("cannot " + what + ": the leadership is changing; retry in a moment",
                    failure);
        }
        if (e instanceof ReconfigurationInProgressException) {
            return new MembershipChangeRefusedException("cannot " + what
                    + ": another membership change is in flight in the cluster; wait for it to finish", failure);
        }
        if (e instanceof SetConfigurationException) {
            return new MembershipChangeRefusedException("cannot " + what + ": " + e.getMessage()
                    + " (the configuration changed meanwhile, or the new server did not catch up: check that it "
                    + "runs with group " + config.groupId() + ")", failure);
        }
        return new ControlPlaneException("cannot " + what + ": " + e.getMessage()
                + "; check that the new server runs with group " + config.groupId()
                + " and that a majority of the servers is reachable", failure);
    }

    /** The Ratis exception that says what happened, under the retry and transport wrappers. */
    private static Throwable rootRaftCause(Throwable failure) {
        Throwable e = failure;
        while ((e instanceof RaftRetryFailureException || e instanceof java.util.concurrent.CompletionException
                || !(e instanceof RaftException)) && e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e;
    }

    /** The configuration as the leader sees it, refusing while it is transitional. */
    private Configuration leaderConfiguration() {
        awaitReadyIfLeading();
        final RaftPeerId leader = division().getInfo().getLeaderId();
        if (leader == null) {
            throw new MembershipChangeRefusedException("no leader is known to " + config.nodeName()
                    + ": wait for an election to finish (a majority of the servers must be running)");
        }
        final GroupInfoReply info;
        try (ControlPlaneClient admin = adminClient(leader)) {
            info = admin.raft().getGroupManagementApi(leader).info(groupId);
        } catch (IOException e) {
            throw new MembershipChangeRefusedException("cannot reach the leader " + leader + ": " + e.getMessage(), e);
        }
        if (info.getRoleInfoProto().getRole() != RaftPeerRole.LEADER) {
            throw new MembershipChangeRefusedException(leader + " is no longer the leader: retry in a moment");
        }
        final RaftConfigurationProto conf = info.getConf().orElseThrow(() ->
                new MembershipChangeRefusedException("the leader " + leader + " did not report its configuration"));
        if (conf.getOldPeersCount() > 0) {
            throw new MembershipChangeRefusedException("another membership change is in flight: the configuration "
                    + "is moving from " + names(ProtoUtils.toRaftPeers(conf.getOldPeersList())) + " to "
                    + names(ProtoUtils.toRaftPeers(conf.getPeersList())) + "; wait for it to finish");
        }
        return new Configuration(leader, ProtoUtils.toRaftPeers(conf.getPeersList()),
                ProtoUtils.toRaftPeers(conf.getListenersList()), info);
    }

    /**
     * A server that has just become leader (an election, a transfer) refuses configuration changes
     * until it has committed an entry of its term: a change asked of it in that moment waits for it,
     * up to an election timeout, instead of failing.
     */
    private void awaitReadyIfLeading() {
        final long deadline = System.nanoTime() + config.electionTimeoutMax().toNanos();
        while (System.nanoTime() < deadline) {
            final DivisionInfo info = division().getInfo();
            if (!info.isLeader() || info.isLeaderReady()) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Refuses when a current voter has not answered the leader recently or is far behind. */
    private void refuseIfUnhealthy(Configuration current) {
        final RoleInfoProto role = current.info().getRoleInfoProto();
        final Map<String, Long> ackAge = role.getLeaderInfo().getFollowerInfoList().stream()
                .collect(Collectors.toMap(f -> f.getId().getId().toStringUtf8(), ServerRpcProto::getLastRpcElapsedTimeMs,
                        (a, b) -> a));
        final Map<String, Long> commitIndex = current.info().getCommitInfos().stream()
                .collect(Collectors.toMap(c -> c.getServer().getId().toStringUtf8(), CommitInfoProto::getCommitIndex,
                        Math::max));
        final long leaderCommit = commitIndex.getOrDefault(current.leader().toString(), 0L);
        final long unreachableMillis = config.electionTimeoutMax().toMillis();
        for (RaftPeer peer : current.voters()) {
            final String name = peer.getId().toString();
            if (peer.getId().equals(current.leader())) {
                continue;
            }
            final long age = ackAge.getOrDefault(name, Long.MAX_VALUE);
            if (age > unreachableMillis) {
                throw new MembershipChangeRefusedException("server " + name + " is unreachable (no answer to the leader "
                        + (age == Long.MAX_VALUE ? "yet" : "for " + age + " ms")
                        + "): bring it back or remove it before adding another server");
            }
            final long behind = leaderCommit - commitIndex.getOrDefault(name, 0L);
            if (behind > LAGGING_ENTRIES_MAX) {
                throw new MembershipChangeRefusedException("server " + name + " is lagging " + behind
                        + " entries behind the leader: wait until it has caught up before adding another server");
            }
        }
    }

    // ---- role watchdog ----

    private void evaluateSoon() {
        try {
            watchdog.execute(this::evaluateRole);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: nothing left to report
        }
    }

    private void evaluateRole() {
        try {
            refreshClient();
            final RaftServer.Division division = division();
            final DivisionInfo info = division.getInfo();
            final long term = info.getCurrentTerm();
            final boolean raftLeader = info.isLeader();
            final boolean ready = raftLeader && info.isLeaderReady();
            final boolean majority = raftLeader && hasRecentMajority(division, info, config.leaderAckBound());
            final boolean acting = ready && majority;
            releaseWaitingOnLeaderChange(info.getLeaderId(), ready);
            if (acting != reportedLeader || (acting && term != reportedTerm)) {
                reportedLeader = acting;
                reportedTerm = term;
                LOG.info("{}: {} in term {}", config.nodeName(), acting ? "became leader" : "is not leader", term);
                notifyListener(acting, term);
            }
            // Stepping down costs an election, so a leader whose majority merely answered late
            // (GC, a loaded machine) only stops acting; it steps down once the silence reaches
            // the minimum election timeout, when the others may be electing a new leader.
            if (raftLeader && ready && !majority && !stepDownRequested
                    && !hasRecentMajority(division, info, config.electionTimeoutMin())) {
                stepDownRequested = true;
                LOG.warn("{}: no acknowledgement from a majority for {} ms in term {}: stepping down",
                        config.nodeName(), config.electionTimeoutMin().toMillis(), term);
                stepDowns.execute(this::stepDown);
            }
            if (!raftLeader) {
                stepDownRequested = false;
                recordLeaderContact(info.getRoleInfoProto());
            }
        } catch (RuntimeException e) {
            if (reportedLeader) {
                reportedLeader = false;
                notifyListener(false, reportedTerm);
            }
            if (!closed.get() && !roleCheckFailing) {
                LOG.warn("{}: role check failed (reported as not leader until it works again): {}",
                        config.nodeName(), e.toString());
            }
            roleCheckFailing = true;
            return;
        }
        roleCheckFailing = false;
    }

    private void notifyListener(boolean leader, long term) {
        try {
            listener.onRoleChange(leader, term);
        } catch (RuntimeException e) {
            LOG.error("{}: role listener failed", config.nodeName(), e);
        }
    }

    private void recordLeaderContact(RoleInfoProto role) {
        if (role.getRole() == RaftPeerRole.FOLLOWER && role.hasFollowerInfo()) {
            final ServerRpcProto leader = role.getFollowerInfo().getLeaderInfo();
            final String name = leader.getId().getId().toStringUtf8();
            if (!name.isEmpty()) {
                lastLeaderContact = new LeaderContact(name, System.currentTimeMillis() - leader.getLastRpcElapsedTimeMs());
            }
        }
    }

    /**
     * When this server last heard from a leader while it followed (up to a watchdog period old), or
     * empty: a new leader learns from it since when the previous one has been silent. Nothing is
     * recorded while this server leads, so after an election it names the leader before.
     */
    public java.util.Optional<LeaderContact> lastLeaderContact() {
        return java.util.Optional.ofNullable(lastLeaderContact);
    }

    /**
     * When the leader changes (or this server becomes the ready leader), the commands waiting behind
     * entries sent towards the old one leave now for the new one, instead of waiting until those
     * entries complete or count as stalled ({@link CommandBatcher#STALLED_AFTER_MILLIS}).
     */
    private void releaseWaitingOnLeaderChange(RaftPeerId leader, boolean selfReady) {
        final LeaderSeen seen = leader == null ? null : new LeaderSeen(leader, selfReady);
        if (seen == null || seen.equals(seenLeader)) {
            return;
        }
        seenLeader = seen;
        toLeader.releaseInFlight();
        reads.releaseInFlight();
    }

    private record LeaderSeen(RaftPeerId leader, boolean selfReady) { }

    private boolean hasRecentMajority(RaftServer.Division division, DivisionInfo info, java.time.Duration bound) {
        final RoleInfoProto role = info.getRoleInfoProto();
        final Map<String, Long> ackAge = new LinkedHashMap<>();
        for (ServerRpcProto follower : role.getLeaderInfo().getFollowerInfoList()) {
            ackAge.put(follower.getId().getId().toStringUtf8(), follower.getLastRpcElapsedTimeMs());
        }
        final RaftConfiguration conf = division.getRaftConf();
        return MajorityCheck.hasRecentMajority(ids(conf.getCurrentPeers(RaftPeerRole.FOLLOWER)),
                ids(conf.getPreviousPeers(RaftPeerRole.FOLLOWER)), ackAge, config.nodeName(), bound.toMillis());
    }

    /** Ratis' stepDown request (a leadership transfer to nobody), sent to this server itself. */
    private void stepDown() {
        try (ControlPlaneClient self = adminClient(selfId)) {
            self.raft().admin().transferLeadership(null, selfId, config.electionTimeoutMin().toMillis());
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: step down failed ({}); Ratis steps down by itself after the election timeout",
                    config.nodeName(), e.toString());
        }
    }

    // ---- helpers ----

    /**
     * A short-lived client for one administrative call. Membership changes wait for the new
     * server to catch up, so one attempt may use the whole operation timeout.
     */
    private ControlPlaneClient adminClient(RaftPeerId target) {
        final Map<String, String> peers = knownPeers();
        if (!peers.containsKey(target.toString())) {
            throw new MembershipChangeRefusedException("the address of " + target + " is unknown to "
                    + config.nodeName() + ": retry once its configuration has caught up");
        }
        return ControlPlaneClient.forAdministration(config.groupId(), peers, config.clusterSecret(),
                target.toString(), config.operationTimeout());
    }

    /** The servers the submit/read client was last pointed at: it follows membership changes. */
    Map<String, String> clientPeers() {
        return clientPeers;
    }

    /** Points the submit/read client at the current membership; the old one finishes its calls. */
    private void refreshClient() {
        final RaftConfiguration conf = division().getRaftConf();
        if (conf == clientPeersCheckedAgainst) {
            return; // a Ratis configuration is immutable: a change is a new object
        }
        final Map<String, String> peers = knownPeers(conf);
        clientPeersCheckedAgainst = conf;
        if (peers.equals(clientPeers)) {
            return;
        }
        final ControlPlaneClient previous = client;
        client = ControlPlaneClient.connect(config.groupId(), peers, config.clusterSecret(),
                config.requestTimeout(), config.operationTimeout());
        clientPeers = peers;
        watchdog.schedule(() -> closeQuietly(previous),
                config.operationTimeout().toMillis() + config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void closeQuietly(ControlPlaneClient client) {
        try {
            client.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing a replaced client failed", e);
        }
    }

    private RaftServer.Division division() {
        try {
            return server.getDivision(groupId);
        } catch (IOException e) {
            throw new ControlPlaneException(config.nodeName() + " does not serve group " + config.groupId()
                    + " (it was removed from the cluster, or is shutting down)", e);
        }
    }

    /** The initial peers plus every server of the current (and, during a change, previous) configuration. */
    private Map<String, String> knownPeers() {
        return knownPeers(division().getRaftConf());
    }

    private Map<String, String> knownPeers(RaftConfiguration conf) {
        final Map<String, String> peers = new LinkedHashMap<>(config.initialPeers());
        conf.getAllPeers().forEach(p -> peers.put(p.getId().toString(), p.getAddress()));
        conf.getPreviousPeers().forEach(p -> peers.put(p.getId().toString(), p.getAddress()));
        return peers;
    }

    private static ServerStatus.Role role(DivisionInfo info) {
        final RaftPeerRole role = info.getCurrentRole();
        if (role == null) {
            return ServerStatus.Role.STARTING;
        }
        return switch (role) {
            case LEADER -> ServerStatus.Role.LEADER;
            case FOLLOWER -> ServerStatus.Role.FOLLOWER;
            case CANDIDATE -> ServerStatus.Role.CANDIDATE;
            case LISTENER -> ServerStatus.Role.LISTENER;
            default -> ServerStatus.Role.STARTING;
        };
    }

    /** The vote as persisted in the raft-meta file (Ratis' storage metadata), which is what counts. */
    private static String votedFor(RaftServer.Division division) {
        try {
            final RaftPeerId votedFor = division.getRaftStorage().getMetadataFile().getMetadata().getVotedFor();
            return votedFor == null ? "" : votedFor.toString();
        } catch (IOException e) {
            return "";
        }
    }

    private static List<String> ids(Collection<RaftPeer> peers) {
        return peers.stream().map(p -> p.getId().toString()).toList();
    }

    private static String names(Collection<RaftPeer> peers) {
        return ids(peers).toString();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            final Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        watchdog.shutdownNow();
        stepDowns.shutdownNow();
        try {
            watchdog.awaitTermination(config.operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            client.close();
        } finally {
            server.close();
        }
        if (reportedLeader) {
            reportedLeader = false;
            notifyListener(false, reportedTerm);
        }
    }

}
