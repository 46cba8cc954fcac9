package herd.server.storage;

import herd.block.nbd.NbdServer;
import herd.block.store.ObjectStore;
import herd.server.ClusterAccess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's block storage: the object store in {@code DATA/objects} and the NBD server that serves
 * volumes from it through the {@link VolumeGateway}. One copy of each object, on the node serving
 * the volume, until replication exists.
 */
public final class NodeStorage implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeStorage.class);

    private final ObjectStore store;
    private final VolumeGateway gateway;
    private final NbdServer nbd;

    private NodeStorage(ObjectStore store, VolumeGateway gateway, NbdServer nbd) {
        this.store = store;
        this.gateway = gateway;
        this.nbd = nbd;
    }

    /** Opens the store under {@code dataRoot} and starts serving NBD as {@code settings} say. */
    public static NodeStorage start(Path dataRoot, String nodeName, StorageSettings settings, ClusterAccess cluster)
        throws IOException {
        Path directory = dataRoot.resolve("objects");
        Files.createDirectories(directory);
        ObjectStore store = openStore(directory, settings);
        try {
            VolumeGateway gateway = new VolumeGateway(nodeName, cluster, store);
            NbdServer nbd = new NbdServer(socketAddress(settings.nbdAddress()), gateway);
            try {
                nbd.start();
            } catch (IOException e) {
                if (settings.nbdAddressConfigured()) {
                    throw e;
                }
                log.warn("{} serves no volumes over NBD: {}; give the node its own address with --nbd-address HOST:PORT",
                    nodeName, e.getMessage());
                return new NodeStorage(store, gateway, null);
            }
            log.info("{} serves volumes over NBD on {} from {} ({} bytes capacity)", nodeName, nbd.localAddress(), directory,
                store.capacityBytes());
            return new NodeStorage(store, gateway, nbd);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
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

    /** Where NBD clients connect; empty when the default address was taken and this node serves no NBD. */
    public java.util.Optional<InetSocketAddress> nbdAddress() {
        return nbd == null ? java.util.Optional.empty() : java.util.Optional.of(nbd.localAddress());
    }

    @Override
    public void close() throws IOException {
        if (nbd != null) {
            nbd.close();
        }
        store.close();
    }

    private static InetSocketAddress socketAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("NBD address '" + hostPort + "' is not HOST:PORT, like 127.0.0.1:10809");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("NBD address '" + hostPort + "' has no valid port: give HOST:PORT, like 127.0.0.1:10809");
        }
    }
}
