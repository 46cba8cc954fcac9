package herd.server.storage;

import herd.block.Done;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.blockcore.ObjectId;
import herd.core.command.QueryResult;
import herd.core.storage.StorageNodeView;
import herd.server.PeerHttpClients;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;

/**
 * Object operations on another node's copies, authenticated with the node token: reads, writes and
 * flushes over its {@link ObjectChannel} when it has one, everything else (and everything with a node
 * that has no channel) over its API ({@code /v1/internal/objects}, see {@link ObjectWire}). A node
 * that cannot be reached, or answers "retry", gives {@link CopyReply.Retry}: the caller waits for the
 * next epoch. A request sent that got no answer in time gives {@link CopyReply#unanswered}.
 */
final class ObjectPeers {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /** Long enough for a 4 MiB copy on a busy disk; a node that takes longer is treated as unreachable. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /** Connections kept open to one node: a volume's requests in flight (qemu 16, nbdcopy 64) each hold one. */
    static final int CONNECTIONS_PER_NODE = 64;
    /** How soon a node that named no object channel is asked again. */
    static final Duration CHANNEL_ASK_AGAIN = Duration.ofSeconds(1);

    private final String nodeToken;
    /** Blocking calls on pooled connections (see {@link PeerHttpClients}); a caller that gets
     * {@link CopyReply.Retry} decides whether to call again. */
    private final CloseableHttpClient http;

    /** The data path's reads, writes and flushes, on nodes that offer an object channel. */
    private final ObjectChannelClient channels;
    private final ExecutorService laterCalls = Executors.newVirtualThreadPerTaskExecutor();
    /** Each node's object channel as it told it, by the node's API address. */
    private final Map<String, KnownChannel> knownChannels = new ConcurrentHashMap<>();

    /** A node's channel address, or none (it has no channel, or did not answer) until {@code askAgainNanos}. */
    private record KnownChannel(Optional<InetSocketAddress> address, long askAgainNanos) {}

    ObjectPeers(String nodeToken) {
        this(nodeToken, REQUEST_TIMEOUT);
    }

    /** With another request timeout, for tests of what a node that does not answer in time does. */
    ObjectPeers(String nodeToken, Duration requestTimeout) {
        this.nodeToken = nodeToken;
        this.http = PeerHttpClients.create(CONNECTIONS_PER_NODE, CONNECT_TIMEOUT, requestTimeout, requestTimeout);
        this.channels = new ObjectChannelClient(nodeToken, CONNECT_TIMEOUT, requestTimeout, CONNECTIONS_PER_NODE);
    }

    private interface ChannelCall {
        CopyReply<Done> call() throws IOException;
    }

    /**
     * Makes a call over the channel; an I/O error is a retry. With {@code change} set, a call sent whole
     * that got no answer in time is one that may still land ({@link CopyReply#unanswered}).
     */
    private CopyReply<Done> overChannel(String node, InetSocketAddress address, boolean change, ChannelCall call) {
        try {
            return call.call();
        } catch (IOException e) {
            CopyReply<Done> retry = unreachable(node, address, e);
            return change && e instanceof ObjectChannelClient.NoAnswer ? CopyReply.unanswered(e.getMessage()) : retry;
        }
    }

    private CopyReply<Done> unreachable(String node, InetSocketAddress address, IOException e) {
        forgetChannel(address);
        return CopyReply.retry(unreachableReason(node, e));
    }

    /** A node that did not answer on its channel may have restarted on another port: it is asked again next time. */
    private void forgetChannel(InetSocketAddress address) {
        knownChannels.values().removeIf(known -> known.address().equals(Optional.of(address)));
        channels.forget(address);
    }

    private static String unreachableReason(String node, IOException e) {
        return "node " + node + " is unreachable: " + e.getMessage();
    }

    /** A change on its way to a node: {@link #finish} waits for the node's reply. */
    interface Pending {
        CopyReply<Done> finish();
    }

    /**
     * Sends a write and returns at once, so that the caller writes its own copy meanwhile, with no
     * thread of its own for the call (over HTTP, the call runs on a virtual thread).
     */
    Pending startWrite(QueryResult.StorageMap map, String node, long epoch, ObjectId id, int offset, ByteBuffer source) {
        Optional<InetSocketAddress> channel = channelOf(map, node);
        if (channel.isEmpty()) {
            return later(node, () -> writeOverHttp(map, node, epoch, id, offset, source));
        }
        return sent(node, channel.get(), true, address -> channels.sendWrite(address, node, epoch, id, offset, source));
    }

    /** Sends a flush and returns at once, so that the caller syncs its own copies meanwhile. */
    Pending startFlush(QueryResult.StorageMap map, String node, List<ObjectId> ids) {
        Optional<InetSocketAddress> channel = channelOf(map, node);
        if (channel.isEmpty()) {
            return later(node, () -> flushOverHttp(map, node, ids));
        }
        if (ids.size() > ObjectChannel.MAX_FLUSH_IDS) { // several requests, one after the other
            return later(node, () -> overChannel(node, channel.get(), false, () -> channels.flush(channel.get(), node, ids)));
        }
        return sent(node, channel.get(), false, address -> channels.sendFlush(address, node, ids));
    }

    private interface ChannelSend {
        ObjectChannelClient.Sent send(InetSocketAddress address) throws IOException;
    }

    /** The request sent; its reply is read when the caller finishes. */
    private Pending sent(String node, InetSocketAddress address, boolean change, ChannelSend send) {
        try {
            ObjectChannelClient.Sent sent = send.send(address);
            return () -> overChannel(node, address, change, () -> channels.receive(sent));
        } catch (IOException e) {
            CopyReply<Done> reply = unreachable(node, address, e);
            return () -> reply;
        }
    }

    /** Runs a call on a virtual thread of its own, for calls that have no way to send first and wait later. */
    Pending later(String node, Supplier<CopyReply<Done>> call) {
        Future<CopyReply<Done>> reply = laterCalls.submit(call::get);
        return () -> {
            try {
                return reply.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return CopyReply.retry("interrupted while waiting for node " + node);
            } catch (ExecutionException e) {
                return CopyReply.retry("the call to node " + node + " failed: " + e.getCause());
            }
        };
    }

    /**
     * Where {@code node}'s object channel listens: the host of its API address, the port it names
     * when asked ({@link ObjectWire#CHANNEL_PATH}). Empty for a node that does not say (an older
     * version, or unreachable): its calls go over HTTP, and it is asked again after
     * {@link #CHANNEL_ASK_AGAIN}.
     */
    private Optional<InetSocketAddress> channelOf(QueryResult.StorageMap map, String node) {
        Optional<StorageNodeView> view = StorageMaps.node(map, node);
        if (view.isEmpty()) {
            return Optional.empty();
        }
        String api = view.get().apiAddress();
        KnownChannel known = knownChannels.get(api);
        if (known == null || (known.address().isEmpty() && System.nanoTime() - known.askAgainNanos() > 0)) {
            CopyReply<Integer> port = call(map, node, "GET", ObjectWire.CHANNEL_PATH, null,
                body -> new CopyReply.Ok<>(Integer.parseInt(new String(body, StandardCharsets.US_ASCII).strip())));
            Optional<InetSocketAddress> address = port instanceof CopyReply.Ok<Integer>(Integer number)
                ? Optional.of(new InetSocketAddress(NodeStorage.socketAddress("API address", api).getHostString(), number))
                : Optional.empty();
            known = new KnownChannel(address, System.nanoTime() + CHANNEL_ASK_AGAIN.toNanos());
            knownChannels.put(api, known);
        }
        return known.address();
    }

    /**
     * Storage epoch {@code epoch} began: a call over the object channel of an earlier epoch that has
     * taken over a second is ended as unanswered, so that the change is made again in the new epoch
     * without waiting out the call timeout for a node the epoch left out.
     */
    void epochBegan(long epoch) {
        channels.epochBegan(epoch);
    }

    void close() {
        channels.close();
        laterCalls.shutdown();
    }

    /**
     * Whether {@code node}'s data path answers: an empty flush over its object channel, or over its API
     * for a node without one. Empty when it answered, whatever it said; otherwise why it did not.
     */
    Optional<String> probe(QueryResult.StorageMap map, String node) {
        Optional<InetSocketAddress> channel = channelOf(map, node);
        if (channel.isEmpty()) {
            return flushOverHttp(map, node, List.of()) instanceof CopyReply.Retry<Done> retry ? Optional.of(retry.reason())
                : Optional.empty();
        }
        try {
            channels.ping(channel.get(), node);
            return Optional.empty();
        } catch (IOException e) {
            forgetChannel(channel.get());
            return Optional.of(unreachableReason(node, e));
        }
    }

    CopyReply<Done> read(QueryResult.StorageMap map, String node, long epoch, ObjectId id, int offset, ByteBuffer into) {
        Optional<InetSocketAddress> channel = channelOf(map, node);
        if (channel.isPresent()) {
            return overChannel(node, channel.get(), false, () -> channels.read(channel.get(), node, epoch, id, offset, into));
        }
        int length = into.remaining();
        return call(map, node, "GET", ObjectWire.path(id, "") + "?epoch=" + epoch + "&offset=" + offset + "&length=" + length,
            null, body -> {
                if (body.length != length) {
                    return new CopyReply.Failed<>(new ObjectError.IoFailure(id, "node " + node + " sent " + body.length
                        + " bytes for a read of " + length));
                }
                into.put(body);
                return new CopyReply.Ok<>(Done.DONE);
            });
    }

    private CopyReply<Done> writeOverHttp(QueryResult.StorageMap map, String node, long epoch, ObjectId id, int offset,
                                          ByteBuffer source) {
        byte[] bytes = new byte[source.remaining()];
        source.get(bytes);
        return change(map, node, "PUT", ObjectWire.path(id, "") + "?epoch=" + epoch + "&offset=" + offset, bytes);
    }

    CopyReply<Done> writeZeroes(QueryResult.StorageMap map, String node, long epoch, ObjectId id, int offset, int length,
                                boolean allocate) {
        return change(map, node, "POST", ObjectWire.path(id, "/zeroes") + "?epoch=" + epoch + "&offset=" + offset + "&length="
            + length + "&allocate=" + allocate, new byte[0]);
    }

    CopyReply<Done> trim(QueryResult.StorageMap map, String node, long epoch, ObjectId id, int offset, int length) {
        return change(map, node, "POST", ObjectWire.path(id, "/trim") + "?epoch=" + epoch + "&offset=" + offset + "&length="
            + length, new byte[0]);
    }

    CopyReply<AllocationMap> allocation(QueryResult.StorageMap map, String node, long epoch, ObjectId id) {
        return call(map, node, "GET", ObjectWire.path(id, "/allocation") + "?epoch=" + epoch, null,
            body -> new CopyReply.Ok<>(ObjectWire.decodeAllocation(body)));
    }

    private CopyReply<Done> flushOverHttp(QueryResult.StorageMap map, String node, Collection<ObjectId> ids) {
        String body = ids.stream().map(ObjectId::hex).collect(Collectors.joining("\n"));
        return call(map, node, "POST", ObjectWire.FLUSH_PATH, body.getBytes(StandardCharsets.US_ASCII), ObjectPeers::done);
    }

    CopyReply<ObjectService.StampInfo> stamp(QueryResult.StorageMap map, String node, long epoch, ObjectId id) {
        return call(map, node, "GET", ObjectWire.path(id, "/stamp") + "?epoch=" + epoch, null,
            body -> new CopyReply.Ok<>(ObjectWire.decodeStamp(body)));
    }

    CopyReply<ObjectCopy> copyOut(QueryResult.StorageMap map, String node, long epoch, ObjectId id) {
        return call(map, node, "GET", ObjectWire.path(id, "/copy") + "?epoch=" + epoch, null,
            body -> new CopyReply.Ok<>(ObjectWire.decodeCopy(body)));
    }

    CopyReply<Done> repair(QueryResult.StorageMap map, String node, long epoch, ObjectId id, String source) {
        return call(map, node, "POST", ObjectWire.path(id, "/repair") + "?epoch=" + epoch + "&from=" + source, new byte[0],
            ObjectPeers::done);
    }

    /** Has {@code node} put a range of its copy back as {@code source} has it ({@link ObjectService#restoreFrom}). */
    CopyReply<Done> restore(QueryResult.StorageMap map, String node, long epoch, ObjectId id, String source, int offset,
                            int length) {
        return change(map, node, "POST", ObjectWire.path(id, "/restore") + "?epoch=" + epoch + "&from=" + source + "&offset="
            + offset + "&length=" + length, new byte[0]);
    }

    /** Has {@code node} mend its copy's damaged blocks from {@code source}'s ({@link ObjectService#mendFrom}). */
    CopyReply<Done> mend(QueryResult.StorageMap map, String node, long epoch, ObjectId id, String source) {
        return call(map, node, "POST", ObjectWire.path(id, "/mend") + "?epoch=" + epoch + "&from=" + source, new byte[0],
            ObjectPeers::done);
    }

    /** Has {@code node} read and check its whole copy ({@link ObjectService#verify}). */
    CopyReply<Done> verify(QueryResult.StorageMap map, String node, long epoch, ObjectId id) {
        return call(map, node, "POST", ObjectWire.path(id, "/verify") + "?epoch=" + epoch, new byte[0], ObjectPeers::done);
    }

    /** The objects a node holds. */
    CopyReply<List<ObjectId>> list(QueryResult.StorageMap map, String node) {
        return call(map, node, "GET", ObjectWire.LIST_PATH, null, body -> {
            List<ObjectId> ids = new ArrayList<>();
            for (String line : new String(body, StandardCharsets.US_ASCII).split("\n")) {
                if (!line.isBlank()) {
                    ids.add(ObjectId.parseHex(line.strip()));
                }
            }
            return new CopyReply.Ok<>(ids);
        });
    }

    /** A node's report of its store and recovery ({@code GET /v1/storage/local}); empty when it does not answer. */
    java.util.Optional<com.fasterxml.jackson.databind.JsonNode> localStatus(QueryResult.StorageMap map, String node) {
        CopyReply<com.fasterxml.jackson.databind.JsonNode> reply = call(map, node, "GET", "/v1/storage/local", null, body -> {
            try {
                return new CopyReply.Ok<>(herd.server.api.JsonViews.MAPPER.readTree(body));
            } catch (IOException e) {
                return CopyReply.retry("unreadable status: " + e.getMessage());
            }
        });
        return reply instanceof CopyReply.Ok<com.fasterxml.jackson.databind.JsonNode> ok ? java.util.Optional.of(ok.value())
            : java.util.Optional.empty();
    }

    private interface BodyDecoder<T> {
        CopyReply<T> decode(byte[] body);
    }

    private static CopyReply<Done> done(byte[] ignored) {
        return new CopyReply.Ok<>(Done.DONE);
    }

    private <T> CopyReply<T> call(QueryResult.StorageMap map, String node, String method, String pathAndQuery, byte[] body,
                                  BodyDecoder<T> decoder) {
        return call(map, node, method, pathAndQuery, body, false, decoder);
    }

    /** A change over HTTP: a request sent that got no answer in time may still land ({@link CopyReply#unanswered}). */
    private CopyReply<Done> change(QueryResult.StorageMap map, String node, String method, String pathAndQuery, byte[] body) {
        return call(map, node, method, pathAndQuery, body, true, ObjectPeers::done);
    }

    private <T> CopyReply<T> call(QueryResult.StorageMap map, String node, String method, String pathAndQuery, byte[] body,
                                  boolean change, BodyDecoder<T> decoder) {
        ObjectId about = pathAndQuery.startsWith(ObjectWire.PREFIX) && pathAndQuery.length() >= ObjectWire.PREFIX.length() + 16
            && !pathAndQuery.startsWith(ObjectWire.FLUSH_PATH)
            ? ObjectId.parseHex(pathAndQuery.substring(ObjectWire.PREFIX.length(), ObjectWire.PREFIX.length() + 16))
            : new ObjectId(0);
        Optional<StorageNodeView> view = StorageMaps.node(map, node);
        if (view.isEmpty()) {
            return CopyReply.retry("node " + node + " is not a storage node of this epoch");
        }
        HttpUriRequestBase request = new HttpUriRequestBase(method, URI.create("http://" + view.get().apiAddress() + pathAndQuery));
        request.setHeader("Authorization", "Bearer " + nodeToken);
        if (body != null) {
            request.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_OCTET_STREAM));
        }
        try {
            return http.execute(request, response -> {
                byte[] answer = response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
                if (response.getCode() / 100 == 2) {
                    return decoder.decode(answer);
                }
                return ObjectWire.decodeError(response.getCode(),
                    Optional.ofNullable(response.getFirstHeader(ObjectWire.ERROR_HEADER)).map(Header::getValue),
                    new String(answer, StandardCharsets.UTF_8), node, about);
            });
        } catch (org.apache.hc.client5.http.ConnectTimeoutException e) {
            return CopyReply.retry("node " + node + " is unreachable: " + e);
        } catch (java.net.SocketTimeoutException e) { // the request went out; the answer did not come
            String reason = "node " + node + " did not answer " + method + " " + pathAndQuery + " in time: " + e;
            return change ? CopyReply.unanswered(reason) : CopyReply.retry(reason);
        } catch (IOException e) {
            return CopyReply.retry("node " + node + " is unreachable: " + e);
        } catch (RuntimeException e) { // an answer that does not decode: that node runs another herd version
            return new CopyReply.Failed<>(new ObjectError.IoFailure(about, "bad answer from node " + node
                + " to " + method + " " + pathAndQuery + ": " + e));
        }
    }
}
