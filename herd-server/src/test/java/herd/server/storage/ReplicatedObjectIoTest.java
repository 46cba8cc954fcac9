package herd.server.storage;

import static herd.server.storage.ObjectNodes.block;
import static herd.server.storage.ObjectNodes.content;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import herd.block.Done;
import herd.block.volume.ObjectError;
import herd.block.volume.ObjectResult;
import herd.blockcore.ObjectId;
import herd.core.command.Command;
import herd.server.storage.ObjectNodes.Node;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The gateway's replication over real stores and real wires: s1 serves the volume and holds a copy,
 * s2 holds the other and answers over its object channel or over HTTP ({@link ObjectNodes}).
 */
class ReplicatedObjectIoTest {
    /** How long s1 waits for s2's answer: short, so that a held request times out quickly. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);

    /** How s2's copies are reached: writes go over the object channel, trims and zeroes over HTTP. */
    enum Wire { CHANNEL, HTTP }

    @AutoClose private final ObjectNodes nodes = new ObjectNodes();

    @ParameterizedTest
    @EnumSource(Wire.class)
    void aWriteANodeDidNotAnswerInTimeIsMadeAgainOnlyInANewEpochSoItCannotLandLate(Wire wire) throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        HeldRequest held = new HeldRequest();
        nodes.onClose(held.release::countDown);
        AtomicReference<ObjectService> s2Service = new AtomicReference<>();
        HttpServer s2Http = switch (wire) {
            case CHANNEL -> s2WithAChannel(s2Service, held);
            case HTTP -> nodes.httpServer(exchange -> {
                if (exchange.getRequestMethod().equals("PUT") && held.take()) {
                    held.hold(); // the request is in s2's socket, unread, while s1 gives up on it
                    try {
                        ObjectWire.serve(exchange, s2Service.get());
                    } finally {
                        held.served.countDown();
                    }
                    return;
                }
                ObjectWire.serve(exchange, s2Service.get());
            });
        };
        AtomicReference<ObjectService> s1Service = new AtomicReference<>();
        HttpServer s1Http = nodes.httpServer(exchange -> ObjectWire.serve(exchange, s1Service.get()));
        nodes.epoch(5, List.of("s1", "s2"), Map.of("s1", s1Http, "s2", s2Http));
        Node s1 = nodes.node("s1", REQUEST_TIMEOUT);
        Node s2 = nodes.node("s2", REQUEST_TIMEOUT);
        s1Service.set(s1.service());
        s2Service.set(s2.service());
        s1.holdsFromAnEarlierEpoch(object, 0x11);
        s2.holdsFromAnEarlierEpoch(object, 0x11);
        ReplicatedObjectIo gateway = new ReplicatedObjectIo(s1.service(), s1.maps(), s1.peers());

        // s2 gets the first write and holds it past s1's timeout; s1 makes the write again and acknowledges it
        assertThat(gateway.write(object, 0, block(0x22))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(held.arrived.getCount()).as("s2 held the first write").isZero();
        // the client, told the write is done, writes the same block again
        assertThat(gateway.write(object, 0, block(0x33))).isInstanceOf(ObjectResult.Ok.class);
        // then s2 gets to the write it held
        held.release.countDown();
        assertThat(held.served.await(10, TimeUnit.SECONDS)).as("s2 served the held write").isTrue();

        assertThat(content(s2, object)).as("s2's copy keeps the newer write").containsOnly((byte) 0x33);
        assertThat(content(s1, object)).containsOnly((byte) 0x33);
        assertThat(nodes.submitted()).as("s1 asked for a new epoch").first()
            .isInstanceOfSatisfying(Command.RenewStorageEpoch.class, renew -> {
                assertThat(renew.node()).isEqualTo("s1");
                assertThat(renew.epoch()).isEqualTo(5);
                assertThat(renew.reason()).contains("object " + object).contains("node s2 did not answer");
            });
        assertThat(nodes.epoch()).isGreaterThanOrEqualTo(6);
        if (wire == Wire.CHANNEL) {
            assertThat(held.reply.get()).as("s2 refused the late write").isInstanceOfSatisfying(CopyReply.Retry.class,
                retry -> assertThat(retry.reason()).contains("storage epoch 5"));
        }
    }

    @Test
    void aWriteRefusedForWantOfSpaceIsAnsweredOnlyOnceItsUndoingCannotLandOverTheNextWrite() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        // The undo of a write s1 had no room for runs on s2: s2 takes s1's copy (as it is at once) and
        // puts the write's range back from it. s1 holds that copy's answer until the test lets it go,
        // so the undo outlasts the gateway's wait for it (s2 itself waits long).
        HeldRequest heldCopy = new HeldRequest();
        nodes.onClose(heldCopy.release::countDown);
        CountDownLatch undone = new CountDownLatch(1);
        AtomicReference<ObjectService> s1Service = new AtomicReference<>();
        AtomicReference<ObjectService> s2Service = new AtomicReference<>();
        HttpServer s1Http = nodes.httpServer(exchange -> {
            if (exchange.getRequestURI().getPath().endsWith("/copy") && heldCopy.take()) {
                CopyReply<ObjectCopy> copy = s1Service.get().copyOut(5, object);
                heldCopy.hold();
                byte[] body = ObjectWire.encodeCopy(((CopyReply.Ok<ObjectCopy>) copy).value());
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                return;
            }
            ObjectWire.serve(exchange, s1Service.get());
        });
        HttpServer s2Http = nodes.httpServer(exchange -> {
            try {
                ObjectWire.serve(exchange, s2Service.get());
            } finally {
                if (exchange.getRequestURI().getPath().endsWith("/restore")) {
                    undone.countDown();
                }
            }
        });
        nodes.epoch(5, List.of("s1", "s2"), Map.of("s1", s1Http, "s2", s2Http));
        Node s1 = nodes.node("s1", REQUEST_TIMEOUT, 2 * 4096); // room for two blocks
        Node s2 = nodes.node("s2", Duration.ofSeconds(30));
        s1Service.set(s1.service());
        s2Service.set(s2.service());
        ReplicatedObjectIo gateway = new ReplicatedObjectIo(s1.service(), s1.maps(), s1.peers());
        assertThat(gateway.write(object, 0, block(0x11))).isInstanceOf(ObjectResult.Ok.class);
        assertThat(gateway.write(object, 2 * 4096, block(0x11))).isInstanceOf(ObjectResult.Ok.class);

        // s1 is full: a write of block 1 is refused there, taken by s2, and s2 is asked to put it back
        assertThat(gateway.write(object, 4096, block(0x22))).isInstanceOfSatisfying(ObjectResult.Failed.class,
            failed -> assertThat(failed.error()).isInstanceOf(ObjectError.NoSpace.class));
        assertThat(heldCopy.arrived.getCount()).as("s2 took s1's copy to put block 1 back").isZero();
        // the client, told of the refusal, frees a block and writes block 1 again; both copies take it
        assertThat(gateway.trim(object, 2 * 4096, 4096)).isInstanceOf(ObjectResult.Ok.class);
        assertThat(gateway.write(object, 4096, block(0x33))).isInstanceOf(ObjectResult.Ok.class);
        // then s2 gets s1's copy as it was before that write, and finishes the undo
        heldCopy.release.countDown();
        assertThat(undone.await(30, TimeUnit.SECONDS)).as("s2 finished the undo").isTrue();

        assertThat(content(s2, object, 4096)).as("s2's block 1 keeps the newer write").containsOnly((byte) 0x33);
        assertThat(content(s1, object, 4096)).containsOnly((byte) 0x33);
    }

    @Test
    void aWriteWhileNoStorageNodeIsUpIsAcknowledgedOnlyOnceANodeHoldsIt() throws Exception {
        ObjectId object = ObjectId.of(1, 0);
        AtomicReference<ObjectService> s1Service = new AtomicReference<>();
        HttpServer s1Http = nodes.httpServer(exchange -> ObjectWire.serve(exchange, s1Service.get()));
        nodes.epoch(5, List.of(), Map.of("s1", s1Http)); // no member: the object is placed nowhere
        Node s1 = nodes.node("s1");
        s1Service.set(s1.service());
        ReplicatedObjectIo gateway = new ReplicatedObjectIo(s1.service(), s1.maps(), s1.peers());

        CompletableFuture<ObjectResult<Done>> write = CompletableFuture.supplyAsync(() -> gateway.write(object, 0, block(0x44)));
        assertThatThrownBy(() -> write.get(1, TimeUnit.SECONDS)).as("not acknowledged while no node holds it")
            .isInstanceOf(TimeoutException.class);
        nodes.epoch(6, List.of("s1"), Map.of("s1", s1Http));

        assertThat(write.get(10, TimeUnit.SECONDS)).isInstanceOf(ObjectResult.Ok.class);
        assertThat(content(s1, object)).containsOnly((byte) 0x44);
    }

    /** s2's HTTP end, which names an object channel whose copies hold the first write. */
    private HttpServer s2WithAChannel(AtomicReference<ObjectService> s2Service, HeldRequest held) throws IOException {
        ObjectChannelServer channel = new ObjectChannelServer("s2", new ObjectChannelServer.Copies() {
            @Override
            public CopyReply<Done> read(long epoch, ObjectId id, int offset, ByteBuffer destination) {
                return s2Service.get().read(epoch, id, offset, destination);
            }

            @Override
            public CopyReply<Done> write(long epoch, ObjectId id, int offset, ByteBuffer source) {
                if (!held.take()) {
                    return s2Service.get().write(epoch, id, offset, source);
                }
                held.hold(); // read whole by s2, which is slow to apply it
                try {
                    CopyReply<Done> reply = s2Service.get().write(epoch, id, offset, source);
                    held.reply.set(reply);
                    return reply;
                } finally {
                    held.served.countDown();
                }
            }

            @Override
            public CopyReply<Done> flush(Collection<ObjectId> ids) {
                return s2Service.get().flush(ids);
            }
        }, "node-token");
        channel.start(new InetSocketAddress("127.0.0.1", 0));
        nodes.onClose(channel::close);
        return nodes.httpServer(exchange -> {
            if (exchange.getRequestURI().getPath().equals(ObjectWire.CHANNEL_PATH)) {
                ObjectWire.answerChannelPort(exchange, channel.localAddress().getPort());
            } else {
                ObjectWire.serve(exchange, s2Service.get());
            }
        });
    }

    /** The first request of a kind a node is sent, which it holds until the test releases it. */
    private static final class HeldRequest {
        final AtomicBoolean taken = new AtomicBoolean();
        final CountDownLatch arrived = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch served = new CountDownLatch(1);
        final AtomicReference<CopyReply<Done>> reply = new AtomicReference<>();

        /** True for the first request only. */
        boolean take() {
            return taken.compareAndSet(false, true);
        }

        void hold() {
            arrived.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
