package herd.server.storage;

import herd.block.nbd.NbdServer;
import herd.block.store.ObjectStore;
import herd.server.ClusterAccess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's block storage: the object store in {@code DATA/objects} with its copies' stamps, the object
 * service other nodes reach it through, the replicated data path and the NBD server that serves
 * volumes through the {@link VolumeGateway}, and recovery after membership changes. On start the node
 * offers its store's capacity to the cluster (a {@code RegisterStorage} entry), which makes it part of
 * the next storage epoch.
 */
public final class NodeStorage implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeStorage.class);

    private final String nodeName;
    private final ObjectStore store;
    private final StampLog stamps;
    private final StorageMaps maps;
    private final ObjectService service;
    private final ReplicatedObjectIo replicated;
    private final StorageRecovery recovery;
    private final StorageScrub scrub;
    private final VolumeGateway gateway;
    private final NbdServer nbd;
    /** The NBD server on the node's Unix socket; null when it has none. */
    private final NbdServer nbdSocket;
    private final ObjectChannelServer channel;
    private final DataPathWatch watch;
    private final Thread registration;

    private NodeStorage(String nodeName, ObjectStore store, StampLog stamps, StorageMaps maps, ObjectService service,
                        ReplicatedObjectIo replicated, StorageRecovery recovery, StorageScrub scrub, VolumeGateway gateway,
                        NbdServer nbd, NbdServer nbdSocket, ObjectChannelServer channel, DataPathWatch watch,
                        Thread registration) {
        this.nodeName = nodeName;
        this.store = store;
        this.stamps = stamps;
        this.maps = maps;
        this.service = service;
        this.replicated = replicated;
        this.recovery = recovery;
        this.scrub = scrub;
        this.gateway = gateway;
        this.nbd = nbd;
        this.nbdSocket = nbdSocket;
        this.channel = channel;
        this.watch = watch;
        this.registration = registration;
    }

    /**
     * Opens the store under {@code dataRoot}, starts serving NBD as {@code settings} say, and offers the
     * store to the cluster in the background (calls to other nodes authenticate with {@code nodeToken}).
     */
    public static NodeStorage start(Path dataRoot, String nodeName, StorageSettings settings, ClusterAccess cluster,
                                    String nodeToken) throws IOException {
        Path directory = dataRoot.resolve("objects");
        Files.createDirectories(directory);
        ObjectStore store = openStore(directory, settings);
        StampLog stamps = null;
        StorageMaps maps = null;
        ObjectPeers peers = null;
        ObjectChannelServer channel = null;
        NbdServer nbd = null;
        NbdServer nbdSocket = null;
        try {
            stamps = StampLog.open(dataRoot.resolve("object-stamps"), store.operations());
            maps = new StorageMaps(cluster);
            peers = new ObjectPeers(nodeToken);
            maps.onNewEpoch(peers::epochBegan);
            ObjectService service = new ObjectService(nodeName, store, stamps, maps, peers);
            channel = startChannel(nodeName, settings, service, nodeToken);
            ReplicatedObjectIo replicated = new ReplicatedObjectIo(service, maps, peers);
            StorageRecovery recovery = new StorageRecovery(nodeName, service, maps, peers, cluster,
                settings.recoveryBytesPerSecond());
            StorageScrub scrub = new StorageScrub(nodeName, service, maps, replicated, settings.scrubInterval(),
                settings.scrubBytesPerSecond(), dataRoot.resolve(StorageScrub.LAST_PASS_FILE));
            VolumeGateway gateway = new VolumeGateway(nodeName, cluster, replicated);
            nbd = startNbd(nodeName, settings, gateway);
            if (nbd != null) {
                log.info("{} serves volumes over NBD on {} from {} ({} bytes capacity)", nodeName, nbd.localAddress(),
                    directory, store.capacityBytes());
            }
            nbdSocket = startNbdSocket(nodeName, settings, gateway);
            Thread registration = Thread.ofVirtual().name("herd-storage-register").start(
                () -> register(nodeName, store.capacityBytes(), cluster));
            DataPathWatch watch = new DataPathWatch(nodeName, maps, cluster, nodeToken, store::longestWait);
            recovery.start();
            scrub.start();
            watch.start();
            return new NodeStorage(nodeName, store, stamps, maps, service, replicated, recovery, scrub, gateway, nbd,
                nbdSocket, channel, watch, registration);
        } catch (IOException | RuntimeException e) {
            if (nbd != null) {
                nbd.close();
            }
            if (nbdSocket != null) {
                nbdSocket.close(); // and its file, which would otherwise outlast the failed start
            }
            if (channel != null) {
                channel.close();
            }
            if (peers != null) {
                peers.close();
            }
            if (maps != null) {
                maps.close();
            }
            if (stamps != null) {
                stamps.close();
            }
            store.close();
            throw e;
        }
    }

    /** The object channel other nodes' data paths reach this node's copies through (see {@link ObjectChannel}). */
    private static ObjectChannelServer startChannel(String nodeName, StorageSettings settings, ObjectService service,
                                                    String nodeToken) throws IOException {
        ObjectChannelServer channel = new ObjectChannelServer(nodeName, service, nodeToken);
        channel.start(socketAddress("object channel address", settings.channelAddress()));
        log.info("{} serves its copies to other nodes on {}", nodeName, channel.localAddress());
        return channel;
    }

    /** The NBD server, or null when the default address was taken (several nodes on one machine). */
    private static NbdServer startNbd(String nodeName, StorageSettings settings, VolumeGateway gateway) throws IOException {
        NbdServer nbd = new NbdServer(socketAddress("NBD address", settings.nbdAddress()), gateway);
        try {
            nbd.start();
            return nbd;
        } catch (IOException e) {
            if (settings.nbdAddressConfigured()) {
                throw e;
            }
            log.warn("{} serves no volumes over NBD: {}; give the node its own address with --nbd-address HOST:PORT",
                nodeName, e.getMessage());
            return null;
        }
    }

    /** The NBD server on the node's Unix socket, or null when it has none; one that cannot be bound stops the node. */
    private static NbdServer startNbdSocket(String nodeName, StorageSettings settings, VolumeGateway gateway)
            throws IOException {
        if (settings.nbdSocket() == null) {
            return null;
        }
        NbdServer server = new NbdServer(UnixDomainSocketAddress.of(settings.nbdSocket()), gateway);
        server.start();
        log.info("{} serves volumes over NBD on unix socket {} (mode 0660: its owner and group may connect)", nodeName,
            settings.nbdSocket());
        return server;
    }

    /** Offers the store to the cluster, retrying until the cluster has a leader and knows this node. */
    private static void register(String nodeName, long capacityBytes, ClusterAccess cluster) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                herd.core.command.Outcome outcome = cluster.submit(new herd.core.command.Command.RegisterStorage(nodeName,
                    capacityBytes));
                if (outcome instanceof herd.core.command.Outcome.Applied) {
                    log.info("{} offers {} bytes of storage", nodeName, capacityBytes);
                    return;
                }
                log.debug("storage registration refused, trying again: {}", outcome); // not added to the cluster yet
            } catch (herd.server.api.ApiException | RuntimeException e) {
                log.debug("storage registration waits for the cluster: {}", e.toString());
            }
            StorageMaps.sleepQuietly(1000);
        }
    }

    /**
     * Why {@code node} may not leave the cluster now, if it may not. A member of the epoch may not
     * while the epoch's recovery is unfinished on some member, or while it holds the only current
     * copy of some object (asked of every member). A storage node that is down
     * cannot be asked, and may hold the last copy of objects no member has (a volume with one copy,
     * two nodes lost at once): it may leave only when the operator gives up its copies
     * ({@code givingUpItsCopies}, the CLI's {@code --force}) or no volume exists.
     */
    public java.util.Optional<String> removalRefusal(String node, boolean givingUpItsCopies) {
        // Decided on the cluster state as it is now, not the map of up to REFRESH_MILLIS ago: a node that just
        // left the epoch would otherwise still be asked what it holds, and the operator told to try again.
        maps.refresh();
        herd.core.command.QueryResult.StorageMap map = maps.current();
        if (!map.current().hasMember(node)) {
            java.util.Optional<herd.core.storage.StorageNodeView> storageNode = map.nodes().stream()
                .filter(view -> view.name().equals(node)).findFirst();
            if (storageNode.isEmpty() || givingUpItsCopies || map.copiesByVolumeId().isEmpty()) {
                return java.util.Optional.empty();
            }
            // up but not in the epoch yet (back from a loss) counts too: its copies are not checked either
            return java.util.Optional.of("node " + node + " is not in the storage epoch (" + storageNode.get().membership()
                .toLowerCase(java.util.Locale.ROOT) + "), so it cannot be asked whether it holds the only copy of some "
                + "object (a volume with one copy, or copies that another lost node held too): bring it back and remove "
                + "it once it is in the epoch, or, if its data is gone for good, remove it with --force (what only it "
                + "held is lost)");
        }
        long epoch = map.current().epoch();
        java.util.List<String> recovering = map.current().members().stream().map(herd.blockcore.placement.StorageNode::name)
            .filter(member -> map.recoveredEpochs().getOrDefault(member, -1L) < epoch).toList();
        if (!recovering.isEmpty()) {
            return java.util.Optional.of("recovery of storage epoch " + epoch + " is not finished on " + String.join(", ",
                recovering) + " (herd storage status shows its progress): until it is, a copy that is out of date cannot "
                + "be told from a current one, so it is not known whether " + node + " holds the only current copy of "
                + "some object; remove it once recovery is done");
        }
        java.util.Map<String, java.util.List<herd.blockcore.ObjectId>> heldByMember = new java.util.HashMap<>();
        for (var member : map.current().members()) {
            if (member.name().equals(nodeName)) {
                heldByMember.put(member.name(), store.list());
            } else if (service.peers().list(map, member.name()) instanceof CopyReply.Ok<java.util.List<herd.blockcore.ObjectId>> ok) {
                heldByMember.put(member.name(), ok.value());
            } else {
                return java.util.Optional.of("node " + member.name() + " did not say which objects it holds, so it is not "
                    + "known whether " + node + " holds the only copy of some: try again when every storage node answers");
            }
        }
        long lastCopies = onlyCurrentCopies(heldByMember, node,
            (member, id) -> maps.placement(map, map.current(), id).contains(member));
        if (lastCopies == 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("node " + node + " holds the only copy of " + lastCopies + " object(s) (volumes with 1 "
            + "copy, or recovery not finished: see herd storage status); removing it would lose them. Wait for recovery, "
            + "or, to give them up, stop the node and remove it with --force");
    }

    /**
     * How many objects {@code node} holds the only current copy of, once every member has recovered
     * the epoch: then the copies the epoch places are current, and a copy held where the epoch does
     * not place it (a surplus copy not dropped yet) may be out of date, so it does not count.
     */
    static long onlyCurrentCopies(java.util.Map<String, java.util.List<herd.blockcore.ObjectId>> heldByMember, String node,
            java.util.function.BiPredicate<String, herd.blockcore.ObjectId> placedOn) {
        java.util.Map<herd.blockcore.ObjectId, Integer> currentCopies = new java.util.HashMap<>();
        heldByMember.forEach((member, held) -> held.stream().filter(id -> placedOn.test(member, id))
            .forEach(id -> currentCopies.merge(id, 1, Integer::sum)));
        return heldByMember.getOrDefault(node, java.util.List.of()).stream()
            .filter(id -> placedOn.test(node, id) && currentCopies.get(id) == 1).count();
    }

    /** This node's object service, which the API serves to the other nodes. */
    public ObjectService objectService() {
        return service;
    }

    /** The port of the object channel, on the API's host; other nodes ask for it ({@link ObjectWire#CHANNEL_PATH}). */
    public int objectChannelPort() {
        return channel.localAddress().getPort();
    }

    /** A storage node's own report ({@code /v1/storage/local}), this node's without a call; empty when it does not answer. */
    public java.util.Optional<com.fasterxml.jackson.databind.JsonNode> peerStatus(herd.core.command.QueryResult.StorageMap map,
                                                                                 String node) {
        if (node.equals(nodeName)) {
            return java.util.Optional.of(localStatus());
        }
        return service.peers().localStatus(map, node);
    }

    /** This node's storage as {@code herd storage status} shows it. */
    public com.fasterxml.jackson.databind.node.ObjectNode localStatus() {
        var status = herd.server.api.JsonViews.object();
        var map = maps.current();
        StorageRecovery.Progress progress = recovery.progress();
        long objects = store.list().size();
        status.put("node", nodeName).put("epoch", map.current().epoch())
            .put("member", map.current().hasMember(nodeName))
            .put("capacityBytes", store.capacityBytes()).put("usedBytes", store.usedBytes())
            .put("objects", objects)
            .put("corruptBlocksSeen", store.corruptionsSeen().size())
            .put("corruptCopiesSeen", replicated.corruptCopiesSeen())
            .put("repairs", service.repairs())
            .put("copiesPulled", service.copiesPulled())
            .put("bytesPulled", service.bytesPulled());
        status.putObject("objectChannel").put("address", hostPort(channel.localAddress()))
            .put("requestsServed", channel.requestsServed());
        long toGo = progress.objectsToGo();
        double rate = progress.bytesPerSecond();
        double bytesPerObject = progress.objectsDone() == 0 ? 0 : (double) progress.bytesCopied() / progress.objectsDone();
        long elapsed = Math.max(1, (progress.finishedMillis() > 0 ? progress.finishedMillis() : System.currentTimeMillis())
            - progress.startedMillis());
        double secondsPerObject = progress.objectsDone() == 0 ? 0 : elapsed / 1000.0 / progress.objectsDone();
        status.putObject("recovery").put("epoch", progress.epoch()).put("state", progress.state())
            .put("objectsTotal", progress.objectsTotal()).put("objectsDone", progress.objectsDone())
            .put("objectsToGo", toGo).put("bytesCopied", progress.bytesCopied())
            .put("bytesToGoEstimate", (long) (toGo * bytesPerObject))
            .put("bytesPerSecond", (long) rate).put("secondsLeftEstimate", Math.round(toGo * secondsPerObject));
        StorageScrub.Progress scrubbed = scrub.progress();
        status.putObject("scrub").put("state", scrubbed.state()).put("passes", scrubbed.passes())
            .put("objectsTotal", scrubbed.objectsTotal()).put("objectsDone", scrubbed.objectsDone())
            .put("bytesRead", scrubbed.bytesRead()).put("damagedFound", scrubbed.damagedFound())
            .put("repaired", scrubbed.repaired()).put("startedMillis", scrubbed.startedMillis())
            .put("finishedMillis", scrubbed.finishedMillis());
        return status;
    }

    /**
     * Without a configured capacity the store may fill the file system: its free space now plus what
     * the store already holds (counted by opening it once).
     */
    private static ObjectStore openStore(Path directory, StorageSettings settings) throws IOException {
        if (settings.capacityBytes().isPresent()) {
            return ObjectStore.open(directory, settings.capacityBytes().getAsLong());
        }
        long freeBytes = Math.max(1, Files.getFileStore(directory).getUsableSpace());
        ObjectStore first = ObjectStore.open(directory, freeBytes);
        long usedBytes = first.usedBytes();
        if (usedBytes == 0) {
            return first;
        }
        first.close();
        return ObjectStore.open(directory, freeBytes + usedBytes);
    }

    public VolumeGateway gateway() {
        return gateway;
    }

    /** Checks the copies of a volume's objects ({@code herd volume check}). */
    public VolumeCheck volumeCheck() {
        return new VolumeCheck(replicated);
    }

    /** Where NBD clients connect; empty when the default address was taken and this node serves no NBD. */
    public java.util.Optional<InetSocketAddress> nbdAddress() {
        return nbd == null ? java.util.Optional.empty() : java.util.Optional.of(nbd.localAddress());
    }

    @Override
    public void close() throws IOException {
        registration.interrupt();
        watch.close();
        recovery.close();
        scrub.close();
        if (nbd != null) {
            nbd.close();
        }
        if (nbdSocket != null) {
            nbdSocket.close();
        }
        channel.close();
        service.peers().close();
        maps.close();
        store.close();
        stamps.close();
    }

    private static String hostPort(InetSocketAddress address) {
        String host = address.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    static InetSocketAddress socketAddress(String what, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(what + " '" + hostPort + "' is not HOST:PORT, like 127.0.0.1:10809");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " '" + hostPort + "' has no valid port: give HOST:PORT, like 127.0.0.1:10809");
        }
    }
}
