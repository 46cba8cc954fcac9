package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import herd.block.store.ObjectStore;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import herd.blockcore.placement.StorageNode;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.storage.StorageEpoch;
import herd.core.storage.StorageNodeView;
import herd.server.ClusterAccess;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * Nodes' object services on real stores in a temporary directory (removed on close), each answering
 * the others over HTTP as herd does, with the cluster's storage map under the test's control. The cluster renews an epoch
 * when a node asks ({@link Command.RenewStorageEpoch}) and remembers what was asked.
 */
final class ObjectNodes implements AutoCloseable {
    static final long CAPACITY = 1L << 30;
    /** The names the storage map knows; members of an epoch are some of them. */
    private static final List<String> NAMES = List.of("s1", "s2");

    private final Path directory;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<Command> submitted = new CopyOnWriteArrayList<>();
    private volatile QueryResult.StorageMap clusterMap;
    private volatile List<String> members = List.of();
    private volatile Map<String, HttpServer> addresses = Map.of();

    /** One node's object service and what it runs on. */
    record Node(ObjectStore store, StampLog stamps, StorageMaps maps, ObjectPeers peers, ObjectService service) {
        /** A copy last current in epoch 4 (the tests run in epoch 5) whose block 0 holds {@code value}. */
        void holdsFromAnEarlierEpoch(ObjectId object, int value) throws IOException {
            store.write(object, 0, block(value));
            stamps.set(object, 4, 3);
        }
    }

    interface Handler {
        void handle(HttpExchange exchange) throws Exception;
    }

    ObjectNodes() {
        try {
            directory = Files.createTempDirectory("herd-object-nodes");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Epoch {@code epoch} begins: the nodes in {@code members} hold every object (one zone each). */
    void epoch(long epoch, List<String> members, Map<String, HttpServer> addresses) {
        this.members = List.copyOf(members);
        this.addresses = Map.copyOf(addresses);
        clusterMap = map(epoch);
    }

    long epoch() {
        return clusterMap.current().epoch();
    }

    /** The commands nodes submitted to the cluster. */
    List<Command> submitted() {
        return List.copyOf(submitted);
    }

    Node node(String name) throws IOException {
        return node(name, ObjectPeers.REQUEST_TIMEOUT);
    }

    /** A node whose calls to other nodes give up after {@code requestTimeout}. */
    Node node(String name, Duration requestTimeout) throws IOException {
        return node(name, requestTimeout, CAPACITY);
    }

    /** A node whose calls give up after {@code requestTimeout} and whose store holds {@code capacity} bytes. */
    Node node(String name, Duration requestTimeout, long capacity) throws IOException {
        ObjectStore store = ObjectStore.open(directory.resolve(name).resolve("objects"), capacity);
        onClose(store);
        StampLog stamps = StampLog.open(directory.resolve(name).resolve("object-stamps"), store.operations());
        onClose(stamps);
        StorageMaps maps = new StorageMaps(cluster());
        onClose(maps);
        ObjectPeers peers = new ObjectPeers("node-token", requestTimeout);
        onClose(peers::close);
        assertThat(maps.awaitEpoch(epoch(), Duration.ofSeconds(5))).isTrue();
        return new Node(store, stamps, maps, peers, new ObjectService(name, store, stamps, maps, peers));
    }

    HttpServer httpServer(Handler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            try (exchange) {
                handler.handle(exchange);
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        });
        server.start();
        onClose(() -> server.stop(0));
        return server;
    }

    void onClose(AutoCloseable closeable) {
        toClose.add(closeable);
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** Where node {@code name} keeps its store and stamps. */
    Path directoryOf(String name) {
        return directory.resolve(name);
    }

    private QueryResult.StorageMap map(long epoch) {
        List<StorageNode> memberNodes = members.stream().map(name -> new StorageNode(name, name, CAPACITY)).toList();
        List<StorageNodeView> nodes = new ArrayList<>();
        for (String name : NAMES) {
            String address = addresses.containsKey(name) ? "127.0.0.1:" + addresses.get(name).getAddress().getPort()
                : "127.0.0.1:1";
            nodes.add(new StorageNodeView(name, name, CAPACITY, address, members.contains(name) ? "MEMBER" : "DOWN", List.of()));
        }
        return new QueryResult.StorageMap(1, List.of(new StorageEpoch(epoch, memberNodes)), Map.of(), nodes,
            Map.of(1, members.size()), epoch);
    }

    private ClusterAccess cluster() {
        return (ClusterAccess) Proxy.newProxyInstance(ClusterAccess.class.getClassLoader(), new Class<?>[] {ClusterAccess.class},
            (proxy, method, args) -> {
                if (method.getName().equals("query") && args[0] instanceof Query.StorageMap) {
                    return clusterMap;
                }
                if (method.getName().equals("submit") && args[0] instanceof Command.RenewStorageEpoch renew) {
                    return renew(renew);
                }
                throw new UnsupportedOperationException(method.getName());
            });
    }

    private synchronized Outcome renew(Command.RenewStorageEpoch renew) {
        submitted.add(renew);
        if (renew.epoch() == epoch()) {
            clusterMap = map(epoch() + 1);
        }
        return new Outcome.Applied("epoch " + epoch() + " is current");
    }

    // ---- data ----

    static ByteBuffer block(int value) {
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) value);
        return ByteBuffer.wrap(bytes);
    }

    /** The first block of a node's copy. */
    static byte[] content(Node node, ObjectId object) {
        return content(node, object, 0);
    }

    static byte[] content(Node node, ObjectId object, int offset) {
        ByteBuffer content = ByteBuffer.allocate(4096);
        assertThat(node.store().read(object, offset, content)).isInstanceOf(ObjectResult.Ok.class);
        return content.array();
    }
}
