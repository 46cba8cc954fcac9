package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import herd.block.Done;
import herd.block.store.ObjectStore;
import herd.blockcore.ObjectId;
import herd.blockcore.placement.StorageNode;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.storage.StorageEpoch;
import herd.core.storage.StorageNodeView;
import herd.server.ClusterAccess;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One node's object service on a real store, with the cluster's storage map under the test's
 * control and another node ("s2") played by an HTTP server that answers when the test says so.
 */
class ObjectServiceTest {
    private static final long CAPACITY = 1L << 30;
    private static final ObjectId OBJECT = ObjectId.of(1, 0);

    @TempDir Path directory;
    private final AtomicReference<QueryResult.StorageMap> clusterMap = new AtomicReference<>();
    private final CountDownLatch copyAsked = new CountDownLatch(1);
    private final CountDownLatch answerCopy = new CountDownLatch(1);
    private HttpServer otherNode;
    private ObjectStore store;
    private StampLog stamps;
    private StorageMaps maps;
    private ObjectPeers peers;
    private ObjectService service;

    @BeforeEach
    void start() throws Exception {
        otherNode = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        otherNode.createContext("/", exchange -> {
            copyAsked.countDown();
            try {
                answerCopy.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "not now".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set(ObjectWire.ERROR_HEADER, "retry");
            exchange.sendResponseHeaders(409, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        otherNode.start();
        clusterMap.set(mapAtEpoch(3));
        store = ObjectStore.open(directory.resolve("objects"), CAPACITY);
        stamps = StampLog.open(directory.resolve("object-stamps"));
        maps = new StorageMaps(cluster());
        peers = new ObjectPeers("node-token");
        service = new ObjectService("s1", store, stamps, maps, peers);
        assertThat(maps.awaitEpoch(3, Duration.ofSeconds(5))).isTrue();
    }

    @AfterEach
    void stop() throws Exception {
        answerCopy.countDown();
        peers.close();
        maps.close();
        stamps.close();
        store.close();
        otherNode.stop(0);
    }

    @Test
    void aChangeWhoseEpochEndedWhileItWaitedForTheObjectIsRefused() throws Exception {
        assertThat(service.write(3, OBJECT, 0, block(0x11))).isInstanceOf(CopyReply.Ok.class);

        // a replacement from s2 holds the object's lock while s2 takes its time
        AtomicReference<CopyReply<Done>> repair = new AtomicReference<>();
        Thread replacing = Thread.ofPlatform().start(() -> repair.set(service.repairFrom(3, OBJECT, "s2")));
        assertThat(copyAsked.await(10, TimeUnit.SECONDS)).as("s2 was asked for its copy").isTrue();

        // a write of epoch 3 passes the epoch gate and waits for the lock
        AtomicReference<CopyReply<Done>> write = new AtomicReference<>();
        Thread writing = Thread.ofPlatform().start(() -> write.set(service.write(3, OBJECT, 0, block(0x22))));
        awaitWaiting(writing);

        // epoch 4 begins (another node may now copy this copy for it); then the lock is free
        clusterMap.set(mapAtEpoch(4));
        assertThat(maps.awaitEpoch(4, Duration.ofSeconds(5))).isTrue();
        answerCopy.countDown();
        replacing.join(10_000);
        writing.join(10_000);

        assertThat(repair.get()).as("s2 answered retry").isInstanceOf(CopyReply.Retry.class);
        assertThat(write.get()).isInstanceOfSatisfying(CopyReply.Retry.class,
            retry -> assertThat(retry.reason()).contains("storage epoch 3 ended while the operation waited"));
        ByteBuffer content = ByteBuffer.allocate(4096);
        store.read(OBJECT, 0, content);
        assertThat(content.array()).as("the copy as epoch 3 left it").containsOnly((byte) 0x11);
    }

    private static ByteBuffer block(int value) {
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) value);
        return ByteBuffer.wrap(bytes);
    }

    private static void awaitWaiting(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.WAITING) {
            assertThat(System.nanoTime()).as(thread + " waits for the object's lock").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /** This node alone in the epoch (one copy of everything); s2 known, not a member. */
    private QueryResult.StorageMap mapAtEpoch(long epoch) {
        StorageNode self = new StorageNode("s1", "s1", CAPACITY);
        List<StorageNodeView> nodes = List.of(new StorageNodeView("s1", "s1", CAPACITY, "127.0.0.1:1", "MEMBER"),
            new StorageNodeView("s2", "s2", CAPACITY, "127.0.0.1:" + otherNode.getAddress().getPort(), "DOWN"));
        return new QueryResult.StorageMap(1, List.of(new StorageEpoch(epoch, List.of(self))), Map.of(), nodes,
            Map.of(OBJECT.volumeId(), 1), epoch);
    }

    private ClusterAccess cluster() {
        return (ClusterAccess) Proxy.newProxyInstance(ClusterAccess.class.getClassLoader(), new Class<?>[] {ClusterAccess.class},
            (proxy, method, args) -> {
                if (!method.getName().equals("query") || !(args[0] instanceof Query.StorageMap)) {
                    throw new UnsupportedOperationException(method.getName());
                }
                return clusterMap.get();
            });
    }
}
