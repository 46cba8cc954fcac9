package herd.server.storage;

import static herd.server.storage.ObjectNodes.block;
import static herd.server.storage.ObjectNodes.content;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import herd.block.Done;
import herd.block.store.ObjectStore;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import herd.server.storage.ObjectNodes.Node;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Nodes' object services on real stores, each answering the others over HTTP as herd does
 * ({@link ObjectNodes}); a node's HTTP end can be made to hold requests.
 */
class ObjectServiceTest {
    @AutoClose private final ObjectNodes nodes = new ObjectNodes();

    @Test
    void aChangeWhoseEpochEndedWhileItWaitedForTheObjectIsRefused() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        nodes.epoch(3, List.of("s1"), Map.of());
        Node s1 = nodes.node("s1");
        assertThat(s1.service().write(3, object, 0, block(0x11))).isInstanceOf(CopyReply.Ok.class);

        // an operation holds the object's lock exclusively (a copy taken out for another node, say)
        Lock held = s1.service().lockOf(object).writeLock();
        held.lock();
        AtomicReference<CopyReply<Done>> write = new AtomicReference<>();
        Thread writing;
        try {
            // a write of epoch 3 passes the epoch gate and waits for the lock
            writing = Thread.ofPlatform().start(() -> write.set(s1.service().write(3, object, 0, block(0x22))));
            awaitWaiting(writing);

            // epoch 4 begins (another node may now copy this copy for it); then the lock is free
            nodes.epoch(4, List.of("s1"), Map.of());
            assertThat(s1.maps().awaitEpoch(4, Duration.ofSeconds(5))).isTrue();
        } finally {
            held.unlock();
        }
        writing.join(10_000);

        assertThat(write.get()).isInstanceOfSatisfying(CopyReply.Retry.class,
            retry -> assertThat(retry.reason()).contains("storage epoch 3 ended while the operation waited"));
        assertThat(content(s1, object)).as("the copy as epoch 3 left it").containsOnly((byte) 0x11);
    }

    @Test
    void replacingACopyWholeDoesNotHoldTheObjectsLockWhileTheSourceAnswers() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        // s2 holds a surplus copy (epoch 5 places the object on s1 alone) and answers a request for
        // it only when the test says so; its other answers go at once
        CountDownLatch copyAsked = new CountDownLatch(1);
        CountDownLatch copyReleased = new CountDownLatch(1);
        nodes.onClose(copyReleased::countDown);
        List<Node> both = twoNodesOverHttp(List.of("s1"), (exchange, service) -> {
            if (exchange.getRequestURI().getPath().endsWith("/copy")) {
                copyAsked.countDown();
                copyReleased.await(30, TimeUnit.SECONDS);
            }
            ObjectWire.serve(exchange, service);
        });
        Node s1 = both.get(0);
        s1.holdsFromAnEarlierEpoch(object, 0x11);
        both.get(1).holdsFromAnEarlierEpoch(object, 0x33);
        AtomicReference<CopyReply<Done>> replacement = new AtomicReference<>();
        Thread replacing = Thread.ofPlatform().start(() -> replacement.set(s1.service().repairFrom(5, object, "s2")));
        assertThat(copyAsked.await(10, TimeUnit.SECONDS)).as("s2 was asked for its copy").isTrue();

        // while s2 takes its time, s1's own operations on the object go on
        CompletableFuture<CopyReply<Done>> write = CompletableFuture.supplyAsync(() -> s1.service().write(5, object, 0, block(0x22)));
        try {
            assertThat(write.get(5, TimeUnit.SECONDS)).as("a write while s2 is asked").isInstanceOf(CopyReply.Ok.class);
        } finally {
            copyReleased.countDown();
            replacing.join(10_000);
        }

        // s2's copy, fetched before that write, is not put over it: under the lock s1 finds its copy current
        assertThat(replacement.get()).isInstanceOfSatisfying(CopyReply.Retry.class,
            retry -> assertThat(retry.reason()).contains("current in epoch 5"));
        assertThat(content(s1, object)).as("the write of epoch 5 stays").containsOnly((byte) 0x22);
    }

    @Test
    void bringingACopyUpToDateDoesNotWaitForAnUpdateOfAnEpochThatEnded() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        // s2 is asked for its stamp and answers nothing (its disk hangs) while the test runs
        HeldEnd s2 = heldEnd(exchange -> { });
        Map<String, HttpServer> addresses = Map.of("s2", s2.server());
        nodes.epoch(5, List.of("s1", "s2"), addresses);
        Node s1 = nodes.node("s1", Duration.ofSeconds(60));
        s1.holdsFromAnEarlierEpoch(object, 0x11);
        Thread.ofPlatform().daemon().start(() -> s1.service().ensureCurrent(5, object)); // recovery of epoch 5, say
        assertThat(s2.asked().await(10, TimeUnit.SECONDS)).as("s2 was asked for its stamp").isTrue();

        // epoch 6 leaves s2 out: s1's copy is the only one, and a write of epoch 6 needs it current
        nodes.epoch(6, List.of("s1"), addresses);
        assertThat(s1.maps().awaitEpoch(6, Duration.ofSeconds(5))).isTrue();
        CompletableFuture<CopyReply<Done>> updated = CompletableFuture.supplyAsync(() -> s1.service().ensureCurrent(6, object));
        assertThat(updated.get(20, TimeUnit.SECONDS)).as("without waiting the 60 s s1 gives s2")
            .isInstanceOf(CopyReply.Ok.class);
        assertThat(s1.service().write(6, object, 0, block(0x22))).isInstanceOf(CopyReply.Ok.class);
        assertThat(content(s1, object)).containsOnly((byte) 0x22);
    }

    @Test
    void twoNodesBringingCopiesUpToDateFromEachOtherDoNotWaitForEachOther() throws Exception {
        // two objects that share a lock: s1 has the newer copy of one, s2 of the other
        ObjectId first = ObjectId.of(1, 0);
        ObjectId second = sharingALockWith(first);
        // each node's HTTP end holds a request for a copy until the other node's request came too
        CyclicBarrier bothAsked = new CyclicBarrier(2);
        List<Node> both = twoNodesOverHttp(List.of("s1", "s2"),
            (exchange, service) -> serveAfterBothAsked(exchange, service, bothAsked));
        Node s1 = both.get(0);
        Node s2 = both.get(1);
        s1.holdsFromAnEarlierEpoch(first, 0x11);
        s2.holdsFromAnEarlierEpoch(second, 0x22);

        AtomicReference<CopyReply<Done>> s1Updated = new AtomicReference<>();
        AtomicReference<CopyReply<Done>> s2Updated = new AtomicReference<>();
        Thread s1Updating = Thread.ofPlatform().start(() -> s1Updated.set(s1.service().ensureCurrent(5, second)));
        Thread s2Updating = Thread.ofPlatform().start(() -> s2Updated.set(s2.service().ensureCurrent(5, first)));
        s1Updating.join(60_000);
        s2Updating.join(60_000);

        assertThat(s1Updated.get()).as("s1 took s2's copy").isInstanceOf(CopyReply.Ok.class);
        assertThat(s2Updated.get()).as("s2 took s1's copy").isInstanceOf(CopyReply.Ok.class);
        assertThat(content(s1, second)).containsOnly((byte) 0x22);
        assertThat(content(s2, first)).containsOnly((byte) 0x11);
    }

    @Test
    void mendingADamagedCopyKeepsTheChangesItsGoodBlocksHold() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        Node s1 = s1BesideS2BothHolding(object, 4096);
        // a change s1 took and s2 has not yet (the copies apply a write in no fixed order)
        assertThat(s1.service().write(5, object, 4096, block(0x33))).isInstanceOf(CopyReply.Ok.class);
        // then a bit of s1's first block goes bad on disk
        s1.store().flush(List.of(object));
        flipAByteOfTheFirstBlock(nodes.directoryOf("s1"), object);
        ByteBuffer damaged = ByteBuffer.allocate(4096);
        assertThat(s1.store().read(object, 0, damaged)).as("the damaged block fails its checksum").isNotInstanceOf(
            ObjectResult.Ok.class);

        assertThat(s1.service().mendFrom(5, object, "s2")).isInstanceOf(CopyReply.Ok.class);

        assertThat(content(s1, object, 0)).as("the damaged block, from s2").containsOnly((byte) 0x11);
        assertThat(content(s1, object, 4096)).as("the good block, with the change s2 has yet to apply")
            .containsOnly((byte) 0x33);
    }

    @Test
    void aCopyWhoseTrailerIsDamagedIsReplacedWholeFromAGoodOne() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        Node s1 = s1BesideS2BothHolding(object, 4096);
        s1.store().flush(List.of(object));
        for (int index = 0; index < ObjectStore.MAX_OPEN_OBJECTS; index++) { // closes its file
            s1.store().write(ObjectId.of(4, index), 0, block(0x01));
        }
        damageTheTrailer(nodes.directoryOf("s1"), object);
        assertThat(s1.store().read(object, 0, ByteBuffer.allocate(4096))).as("the copy is damaged as a whole")
            .isEqualTo(ObjectResult.failed(new ObjectError.Corrupt(object, ObjectError.Corrupt.TRAILER_DAMAGED)));

        assertThat(s1.service().mendFrom(5, object, "s2")).isInstanceOf(CopyReply.Ok.class);

        assertThat(content(s1, object, 0)).containsOnly((byte) 0x11);
        assertThat(content(s1, object, 4096)).containsOnly((byte) 0x22);
    }

    @Test
    void undoingAWriteRefusedForWantOfSpaceKeepsTheOtherChangesInFlight() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        Node s1 = s1BesideS2BothHolding(object, 2 * 4096);
        // s1 took a write of blocks 0 and 1 that s2 had no room for
        ByteBuffer refused = ByteBuffer.allocate(2 * 4096);
        Arrays.fill(refused.array(), (byte) 0x44);
        assertThat(s1.service().write(5, object, 0, refused)).isInstanceOf(CopyReply.Ok.class);
        // and another write, of block 2, that s2 has yet to apply
        assertThat(s1.service().write(5, object, 2 * 4096, block(0x33))).isInstanceOf(CopyReply.Ok.class);

        assertThat(s1.service().restoreFrom(5, object, "s2", 0, 2 * 4096)).isInstanceOf(CopyReply.Ok.class);

        assertThat(content(s1, object, 0)).as("block 0 as s2 has it").containsOnly((byte) 0x11);
        assertThat(content(s1, object, 4096)).as("block 1, which s2 never had").containsOnly((byte) 0);
        assertThat(s1.store().allocation(object)).isInstanceOfSatisfying(ObjectResult.Ok.class,
            ok -> assertThat(((herd.block.volume.AllocationMap) ok.value()).isAllocated(1)).as("block 1 released").isFalse());
        assertThat(content(s1, object, 2 * 4096)).as("the other write, kept").containsOnly((byte) 0x33);
    }

    @Test
    void aSurplusCopyIsNotBroughtBackOverAnObjectItsPlacedNodeEmptied() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        // epoch 5 places the object on s1 alone; s2 still holds a copy from epoch 4 (surplus)
        List<Node> both = twoNodesOverHttp(List.of("s1"), ObjectWire::serve);
        Node s1 = both.get(0);
        Node s2 = both.get(1);
        s1.holdsFromAnEarlierEpoch(object, 0x11);
        s2.holdsFromAnEarlierEpoch(object, 0x11);
        // the client zeroes the whole object: s1 releases every block, and the object goes
        assertThat(s1.service().writeZeroes(5, object, 0, ObjectId.OBJECT_SIZE_BYTES, false))
            .isInstanceOf(CopyReply.Ok.class);
        assertThat(s1.store().allocation(object)).as("s1 holds the object no more")
            .isInstanceOf(herd.block.volume.ObjectResult.Failed.class);

        assertThat(s2.service().dropIfSurplus(s2.maps().current(), object)).as("s2's surplus copy goes").isTrue();

        assertThat(s1.store().allocation(object)).as("the zeroed object stays gone on s1, not brought back from s2")
            .isInstanceOf(herd.block.volume.ObjectResult.Failed.class);
        assertThat(s2.store().allocation(object)).isInstanceOf(herd.block.volume.ObjectResult.Failed.class);
    }

    @Test
    void aWholeCopyIsNotPutOverACopyThatTookChangesOfTheEpoch() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        Node s1 = s1BesideS2BothHolding(object);
        // s1's copy was made current in epoch 5 and took a write of it
        assertThat(s1.service().write(5, object, 0, block(0x22))).isInstanceOf(CopyReply.Ok.class);

        // a request to take s2's copy whole (made when s1 lacked a current copy) arrives only now
        assertThat(s1.service().repairFrom(5, object, "s2")).isInstanceOfSatisfying(CopyReply.Retry.class,
            retry -> assertThat(retry.reason()).contains("current in epoch 5"));

        assertThat(content(s1, object)).as("the write of epoch 5 stays").containsOnly((byte) 0x22);
    }

    // ---- nodes ----

    /**
     * s1 of {@link #twoNodesServedByS2}; both nodes hold the object from epoch 4, block 0 as 0x11 and a
     * block of 0x22 at each of {@code offsetsOf0x22}.
     */
    private Node s1BesideS2BothHolding(ObjectId object, int... offsetsOf0x22) throws IOException {
        List<Node> both = twoNodesServedByS2();
        for (Node node : both) {
            node.holdsFromAnEarlierEpoch(object, 0x11);
            for (int offset : offsetsOf0x22) {
                node.store().write(object, offset, block(0x22));
            }
        }
        return both.get(0);
    }

    /** A node's HTTP end that holds each request until {@code released} (or 30 s), then answers it as told. */
    private record HeldEnd(HttpServer server, CountDownLatch asked, CountDownLatch released) {}

    private HeldEnd heldEnd(ObjectNodes.Handler answer) throws IOException {
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch released = new CountDownLatch(1);
        nodes.onClose(released::countDown);
        HttpServer server = nodes.httpServer(exchange -> {
            asked.countDown();
            released.await(30, TimeUnit.SECONDS);
            answer.handle(exchange);
        });
        return new HeldEnd(server, asked, released);
    }

    /** What a node's HTTP end does with a request, given the node's object service. */
    private interface Serving {
        void serve(HttpExchange exchange, ObjectService service) throws Exception;
    }

    /** s1 and s2, each answering over HTTP as {@code serving} says, in epoch 5 with {@code members}. */
    private List<Node> twoNodesOverHttp(List<String> members, Serving serving) throws IOException {
        AtomicReference<ObjectService> s1Service = new AtomicReference<>();
        AtomicReference<ObjectService> s2Service = new AtomicReference<>();
        HttpServer s1Http = nodes.httpServer(exchange -> serving.serve(exchange, s1Service.get()));
        HttpServer s2Http = nodes.httpServer(exchange -> serving.serve(exchange, s2Service.get()));
        nodes.epoch(5, members, Map.of("s1", s1Http, "s2", s2Http));
        Node s1 = nodes.node("s1");
        Node s2 = nodes.node("s2");
        s1Service.set(s1.service());
        s2Service.set(s2.service());
        return List.of(s1, s2);
    }

    /** s1 and s2, both members of epoch 5 (two copies of everything), s2 answering over HTTP. */
    private List<Node> twoNodesServedByS2() throws IOException {
        AtomicReference<ObjectService> s2Service = new AtomicReference<>();
        HttpServer s2Http = nodes.httpServer(exchange -> ObjectWire.serve(exchange, s2Service.get()));
        nodes.epoch(5, List.of("s1", "s2"), Map.of("s2", s2Http));
        Node s1 = nodes.node("s1");
        Node s2 = nodes.node("s2");
        s2Service.set(s2.service());
        return List.of(s1, s2);
    }

    private static void serveAfterBothAsked(HttpExchange exchange, ObjectService service, CyclicBarrier bothAsked)
            throws Exception {
        if (exchange.getRequestURI().getPath().endsWith("/copy")) {
            try {
                bothAsked.await(20, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                // only one node asked: serve it anyway
            }
        }
        ObjectWire.serve(exchange, service);
    }

    // ---- helpers ----

    private static ObjectId sharingALockWith(ObjectId object) {
        for (int index = object.index() + 1; ; index++) {
            ObjectId other = ObjectId.of(object.volumeId(), index);
            if (ObjectService.lockStripe(other) == ObjectService.lockStripe(object)) {
                return other;
            }
        }
    }

    private static void flipAByteOfTheFirstBlock(Path nodeDirectory, ObjectId object) throws IOException {
        try (java.io.RandomAccessFile data = new java.io.RandomAccessFile(objectFile(nodeDirectory, object).toFile(), "rw")) {
            int value = data.read();
            data.seek(0);
            data.write(value ^ 0xff);
        }
    }

    /** Overwrites the header of the object's trailer, which follows its 4 MiB of data. */
    private static void damageTheTrailer(Path nodeDirectory, ObjectId object) throws IOException {
        try (java.io.RandomAccessFile data = new java.io.RandomAccessFile(objectFile(nodeDirectory, object).toFile(), "rw")) {
            data.seek(ObjectId.OBJECT_SIZE_BYTES);
            data.writeInt(0xdeadbeef);
        }
    }

    private static Path objectFile(Path nodeDirectory, ObjectId object) throws IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(nodeDirectory.resolve("objects"))) {
            return files.filter(path -> path.getFileName().toString().equals(object.hex())).findFirst().orElseThrow();
        }
    }

    private static void awaitWaiting(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.WAITING) {
            assertThat(System.nanoTime()).as(thread + " waits for the object's lock").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
