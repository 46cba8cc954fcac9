package herd.server;

import herd.agent.Executor;
import herd.agent.ExecutorSettings;
import herd.agent.fence.Fencer;
import herd.control.ClusterSecret;
import herd.coordinator.CoordinatorSettings;
import herd.server.resources.LeaderCoordinator;
import herd.server.resources.NodeAgent;
import herd.control.ControlPlaneConfig;
import herd.control.ControlPlaneNode;
import herd.control.RoleListener;
import herd.core.cluster.NodeInfo;
import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.server.api.ApiException;
import herd.server.api.ApiServer;
import herd.server.api.Authenticator;
import herd.server.config.DataDir;
import herd.server.config.NodeConfig;
import herd.server.state.ClusterStateApplication;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code herd agent}: runs one node from its data directory until the process is stopped. A server
 * runs the Raft server, its replica of the cluster state and the API; a node that was started with
 * {@code --join} and has no cluster yet waits to be adopted first.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    static final Duration PEER_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** The port of the entry channel, for firewalls between servers; any free port when unset. */
    static final String ENTRY_CHANNEL_PORT_VARIABLE = "HERD_ENTRY_CHANNEL_PORT";
    /** Heartbeat, node-lost and lease timings (see CoordinatorSettings and docs/operations.md). */
    static final CoordinatorSettings COORDINATOR_SETTINGS = CoordinatorSettings.defaults();

    /**
     * A server joining: its identity, the cluster secret, its NBD address (null: the default) and its NBD
     * socket (null: none).
     */
    public record JoinSpec(String name, String apiAddress, String raftAddress, String zone, Path secretFile,
                           String nbdAddress, String nbdSocket) {}

    private final ApiServer api;
    /** What else to close, in order, after the API: the Raft server or client, the hooks. */
    private final List<AutoCloseable> resources;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private Daemon(ApiServer api, List<AutoCloseable> resources) {
        this.api = api;
        this.resources = resources;
    }

    /**
     * Starts the node in {@code dataDir}; with {@code join} set and no node there yet, first waits to be
     * added to a cluster. Hooks given here replace the stored ones (null keeps them).
     */
    public static Daemon start(DataDir dataDir, JoinSpec join, List<String> leaderHook, List<String> followerHook)
        throws IOException, InterruptedException {
        if (!dataDir.isInitialised() && join != null) {
            waitForAdoption(dataDir, join);
        }
        NodeConfig config = dataDir.readConfig();
        if (leaderHook != null || followerHook != null) {
            config = config.withHooks(leaderHook != null ? leaderHook : config.leaderHook(),
                followerHook != null ? followerHook : config.followerHook());
            dataDir.writeConfig(config);
        }
        return config.isServer() ? startServer(dataDir, config) : startWorker(dataDir, config);
    }

    private static void waitForAdoption(DataDir dataDir, JoinSpec join) throws IOException, InterruptedException {
        dataDir.create();
        byte[] secret = Files.readAllBytes(join.secretFile());
        ClusterSecret.fromBytes(secret);
        dataDir.writeClusterSecret(secret);
        try (WaitingNode waiting = new WaitingNode(join.name(), join.apiAddress(), join.raftAddress(), join.zone(), dataDir,
            NodeToken.fromClusterSecret(secret))) {
            waiting.awaitAdoption();
        }
        if (join.nbdAddress() != null) {
            dataDir.writeConfig(dataDir.readConfig().withNbdAddress(join.nbdAddress()));
        }
        if (join.nbdSocket() != null) {
            dataDir.writeConfig(dataDir.readConfig().withNbdSocket(join.nbdSocket()));
        }
    }

    private static Daemon startServer(DataDir dataDir, NodeConfig config) throws IOException {
        byte[] secretBytes = dataDir.readClusterSecret();
        ClusterSecret secret = ClusterSecret.fromBytes(secretBytes);
        String adminToken = dataDir.readAdminToken();
        String nodeToken = NodeToken.fromClusterSecret(secretBytes);
        ClusterStateApplication application = new ClusterStateApplication();
        LeaderHooks hooks = new LeaderHooks(config.name(), dataDir.root().resolve("hooks.log"), config.leaderHook(),
            config.followerHook());
        FounderInit founderInit = new FounderInit(config, dataDir.restoreFile());
        if (config.founder()) {
            hooks.alsoNotify(founderInit);
        }
        hooks.startAsFollower();
        PeerApi peers = new PeerApi(nodeToken, PEER_CONNECT_TIMEOUT);
        Executor executor = new Executor(ExecutorSettings.defaults(config.name(), dataDir.root().resolve("run")));
        LeaderCoordinator coordinator = new LeaderCoordinator(config.name(), peers, COORDINATOR_SETTINGS,
            new Fencer(executor.fenceAgents()));
        hooks.alsoNotify(coordinator);
        ControlPlaneNode node = ControlPlaneNode.start(controlPlaneConfig(dataDir, config, secret), application, hooks);
        coordinator.watchLeaderContacts(node::lastLeaderContact);
        EntryChannelServer entryChannel = startEntryChannel(config, nodeToken, node);
        Function<String, Optional<String>> apiAddressOf = name -> serverApiAddress(application, name);
        EntryChannelForwarder forwarder = new EntryChannelForwarder(nodeToken, PEER_CONNECT_TIMEOUT,
            node.config().operationTimeout(), apiAddressOf, peers,
            new HttpLeaderForwarder(nodeToken, PEER_CONNECT_TIMEOUT, node.config().operationTimeout(), apiAddressOf));
        node.forwardWritesThrough(forwarder);
        founderInit.attach(node);
        ServerClusterAccess access = new ServerClusterAccess(node, application, config, peers,
            new ServerAdoption(config, adminToken, peers), adminToken);
        NodeAgent agent = new NodeAgent(config.name(), access, executor, peers, COORDINATOR_SETTINGS,
            () -> serverAddresses(access), coordinator);
        coordinator.attach(access, agent);
        ApiServer api = new ApiServer(socketAddress(config.apiAddress()), access, new Authenticator(adminToken, nodeToken),
            config.name());
        api.serveResources(access, agent, coordinator);
        api.serveEntryChannel(entryChannel.port());
        herd.server.storage.NodeStorage storage = startStorage(dataDir, config, access, nodeToken);
        api.serveVolumes(access, storage);
        api.start();
        agent.start();
        log.info("{} serves the API on {} and Raft on {} (cluster {}, data in {})", config.name(), config.apiAddress(),
            config.raftAddress(), config.clusterName(), dataDir.root());
        return new Daemon(api, List.of(storage, coordinator, agent, forwarder, entryChannel, node, hooks));
    }

    /**
     * Where followers forward their writes while this server leads (see {@link EntryChannel}): the
     * API's host, the port in {@link #ENTRY_CHANNEL_PORT_VARIABLE} or any free one.
     */
    private static EntryChannelServer startEntryChannel(NodeConfig config, String nodeToken, ControlPlaneNode node)
        throws IOException {
        int port = herd.server.storage.StorageSettings.listenPort(ENTRY_CHANNEL_PORT_VARIABLE,
            System.getenv(ENTRY_CHANNEL_PORT_VARIABLE));
        EntryChannelServer channel = new EntryChannelServer(config.name(), nodeToken, node::appendForwarded);
        InetSocketAddress address = new InetSocketAddress(herd.server.storage.StorageSettings.apiHost(config), port);
        try {
            channel.start(address);
        } catch (java.net.BindException e) {
            throw new IllegalArgumentException("cannot listen for other servers' writes on " + address.getHostString()
                + ":" + port + " (" + e.getMessage() + "): free that port, or set " + ENTRY_CHANNEL_PORT_VARIABLE
                + " to another (unset: any free port)", e);
        }
        log.info("{} takes other servers' writes on port {} while it leads", config.name(), channel.port());
        return channel;
    }

    /** The object store in DATA/objects and the NBD server (see herd.server.storage.StorageSettings). */
    private static herd.server.storage.NodeStorage startStorage(DataDir dataDir, NodeConfig config, ClusterAccess access,
                                                                String nodeToken) throws IOException {
        return herd.server.storage.NodeStorage.start(dataDir.root(), config.name(),
            herd.server.storage.StorageSettings.of(config, System.getenv()), access, nodeToken);
    }

    /** A server's API address from this node's replica of the cluster state. */
    private static java.util.Optional<String> serverApiAddress(ClusterStateApplication application, String name) {
        QueryResult.NodeList nodes = (QueryResult.NodeList) application.query(new Query.Nodes());
        return nodes.nodes().stream().filter(n -> n.name().equals(name) && n.role() == NodeInfo.Role.SERVER)
            .map(NodeInfo::apiAddress).findFirst();
    }

    /** Every server's API address from this node's replica, for heartbeats when the leader is unknown. */
    private static List<String> serverAddresses(ClusterAccess access) {
        try {
            QueryResult.NodeList nodes = (QueryResult.NodeList) access.query(new Query.Nodes(), false);
            return nodes.nodes().stream().filter(n -> n.role() == NodeInfo.Role.SERVER).map(NodeInfo::apiAddress).toList();
        } catch (ApiException | RuntimeException e) {
            return List.of();
        }
    }

    private static Daemon startWorker(DataDir dataDir, NodeConfig config) throws IOException {
        byte[] secretBytes = dataDir.readClusterSecret();
        String nodeToken = NodeToken.fromClusterSecret(secretBytes);
        herd.control.ControlPlaneClient client = herd.control.ControlPlaneClient.connect(UUID.fromString(config.groupId()),
            config.initialRaftPeers(), ClusterSecret.fromBytes(secretBytes));
        PeerApi peers = new PeerApi(nodeToken, PEER_CONNECT_TIMEOUT);
        WorkerClusterAccess access = new WorkerClusterAccess(client, config, peers);
        Executor executor = new Executor(ExecutorSettings.defaults(config.name(), dataDir.root().resolve("run")));
        NodeAgent agent = new NodeAgent(config.name(), access, executor, peers, COORDINATOR_SETTINGS,
            config::serverApiAddresses, null);
        ApiServer api = new ApiServer(socketAddress(config.apiAddress()), access,
            new Authenticator(dataDir.readAdminToken(), nodeToken), config.name());
        api.serveResources(access, agent, null);
        herd.server.storage.NodeStorage storage = startStorage(dataDir, config, access, nodeToken);
        api.serveVolumes(access, storage);
        api.start();
        agent.start();
        log.info("{} (worker) serves the API on {} (cluster {}, data in {})", config.name(), config.apiAddress(),
            config.clusterName(), dataDir.root());
        return new Daemon(api, List.of(storage, agent, access));
    }

    static ControlPlaneConfig controlPlaneConfig(DataDir dataDir, NodeConfig config, ClusterSecret secret) {
        ControlPlaneConfig.Builder builder = ControlPlaneConfig.builder()
            .nodeName(config.name())
            .raftAddress(config.raftAddress())
            .dataDirectory(dataDir.raftDir())
            .groupId(UUID.fromString(config.groupId()))
            .initialPeers(config.initialRaftPeers())
            .clusterSecret(secret);
        if (config.electionTimeoutMinMillis() > 0 && config.electionTimeoutMaxMillis() > config.electionTimeoutMinMillis()) {
            builder.electionTimeoutMin(Duration.ofMillis(config.electionTimeoutMinMillis()))
                .electionTimeoutMax(Duration.ofMillis(config.electionTimeoutMaxMillis()));
        }
        if (config.snapshotThresholdEntries() > 0) {
            builder.snapshotThresholdEntries(config.snapshotThresholdEntries());
        }
        return builder.build();
    }

    static InetSocketAddress socketAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        api.close();
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("closing {}: {}", resource.getClass().getSimpleName(), e.toString());
            }
        }
        stopped.countDown();
    }

    /**
     * The founder writes the cluster's first entry (its name and first server) the first time it
     * leads; later leaderships find it there and do nothing.
     */
    static final class FounderInit implements RoleListener {
        /** Keys per restore entry are bounded by bytes, so no log entry grows past a few MiB. */
        static final long RESTORE_BATCH_MAX_BYTES = 1024 * 1024;

        private final NodeConfig config;
        private final Path restoreFile;
        private volatile ControlPlaneNode node;
        private volatile boolean pendingLeadership;

        FounderInit(NodeConfig config, Path restoreFile) {
            this.config = config;
            this.restoreFile = restoreFile;
        }

        void attach(ControlPlaneNode startedNode) {
            node = startedNode;
            if (pendingLeadership) {
                initIfNeeded();
            }
        }

        @Override
        public void onRoleChange(boolean leader, long term) {
            if (!leader) {
                return;
            }
            if (node == null) {
                pendingLeadership = true;
                return;
            }
            initIfNeeded();
        }

        private void initIfNeeded() {
            Thread.ofVirtual().name("herd-founder-init").start(() -> {
                try {
                    QueryResult.ClusterSummary summary = summary();
                    if (summary.clusterName().isEmpty()) {
                        NodeInfo self = new NodeInfo(config.name(), NodeInfo.Role.SERVER, config.apiAddress(),
                            config.raftAddress(), config.zone());
                        log.info("cluster {}: {}", config.clusterName(), submit(new Command.InitCluster(config.clusterName(), self,
                            Files.exists(restoreFile))));
                        summary = summary();
                    }
                    if (summary.restoring()) {
                        restoreBackup();
                    }
                } catch (ApiException | IOException e) {
                    log.warn("could not write the cluster's first entries yet ({}); will retry when leading again", e.getMessage());
                }
            });
        }

        /**
         * Loads the backup's resource configuration, then its keys in batches with a progress line per
         * batch; the last batch ends the restore, so a crash before it runs all of it again, which is
         * harmless. Nodes and volumes belong to the machines of the old cluster: they are named in a
         * log line and left out.
         */
        private void restoreBackup() throws IOException, ApiException {
            herd.core.StateImage image;
            try (var in = Files.newInputStream(restoreFile)) {
                image = Codec.readImage(in);
            }
            restoreResourceConfiguration(image);
            restoreKeys(image);
            logWhatIsLeftOut(image);
            Files.move(restoreFile, restoreFile.resolveSibling("restore.done.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            log.info("restore: complete; the cluster accepts writes");
        }

        private void restoreResourceConfiguration(herd.core.StateImage image) throws ApiException {
            String crm = image.resourceConfiguration();
            if (crm == null || crm.isBlank()) {
                return;
            }
            Outcome outcome = submit(new Command.SetResourceConfiguration(crm));
            if (outcome instanceof Outcome.Rejected rejected) {
                throw ApiException.of(rejected.rejection());
            }
            log.info("restore: resource configuration loaded ({} lines)", crm.lines().count());
        }

        private void logWhatIsLeftOut(herd.core.StateImage image) {
            int nodes = image.nodes() == null ? 0 : image.nodes().size();
            int volumes = image.volumes() == null ? 0 : image.volumes().entries().size();
            if (nodes > 0 || volumes > 0) {
                log.info("restore: the backup also lists {} nodes and {} volumes and snapshots of the old cluster; they are "
                    + "not restored: add this cluster's servers and workers, then create its volumes", nodes, volumes);
            }
        }

        /** Loads the backup's keys in batches, with a progress line per batch. */
        private void restoreKeys(herd.core.StateImage image) throws ApiException {
            List<herd.core.kv.KeyValue> keys = image.keys();
            List<herd.core.kv.KeyValue> batch = new java.util.ArrayList<>();
            long batchBytes = 0;
            int done = 0;
            log.info("restore: loading {} keys at revision {} from {}", keys.size(), image.revision(), restoreFile);
            for (herd.core.kv.KeyValue kv : keys) {
                batch.add(kv);
                batchBytes += kv.value().length + kv.key().length();
                done++;
                if (batchBytes >= RESTORE_BATCH_MAX_BYTES || done == keys.size()) {
                    submitRestoreBatch(batch, image.revision(), done == keys.size());
                    log.info("restore: {} of {} keys ({}%)", done, keys.size(), done * 100L / keys.size());
                    batch = new java.util.ArrayList<>();
                    batchBytes = 0;
                }
            }
            if (keys.isEmpty()) {
                submitRestoreBatch(batch, image.revision(), true);
            }
        }

        private void submitRestoreBatch(List<herd.core.kv.KeyValue> batch, long revision, boolean last) throws ApiException {
            Outcome outcome = submit(new Command.RestoreKeys(List.copyOf(batch), revision, last));
            if (outcome instanceof Outcome.Rejected rejected) {
                throw ApiException.of(rejected.rejection());
            }
        }

        private Outcome submit(Command command) throws ApiException {
            return Codec.decodeOutcome(ServerClusterAccess.await(node.submit(Codec.encode(command)), "writing a " + command.getClass().getSimpleName() + " entry"));
        }

        private QueryResult.ClusterSummary summary() throws ApiException {
            byte[] answer = ServerClusterAccess.await(node.readLinearizable(Codec.encode(new Query.Summary())),
                "reading the cluster summary");
            return (QueryResult.ClusterSummary) Codec.decodeQueryResult(answer);
        }
    }
}
