package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import herd.core.ErrorCode;
import herd.server.ClusterAccess;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/JSON API under {@code /v1}, served on the node's configured address only. One event loop
 * thread reads requests and writes answers. Gets, puts and deletes of a key are served on it without
 * blocking: the answer is written when the control plane's future completes, so a put costs no
 * thread of its own. Every other request runs on its own virtual thread, where handlers simply block
 * on the cluster. A connection reads its next request only once the current one is answered.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    /** Largest request body: a 1 MiB value in base64 inside JSON, with room to spare. */
    static final int MAX_BODY_BYTES = 2 * 1024 * 1024;
    /**
     * Largest body a connection takes in before a handler sees it: a storage object with room to
     * spare (the handlers apply their own, smaller limits and say so).
     */
    private static final int MAX_RECEIVED_BODY_BYTES = herd.blockcore.ObjectId.OBJECT_SIZE_BYTES + 64 * 1024;
    /** Longest request line or header block: a 4 KiB key percent-encoded is up to 12 KiB. */
    private static final int MAX_REQUEST_HEAD_BYTES = 64 * 1024;

    private final EventLoopGroup eventLoop = new MultiThreadIoEventLoopGroup(1,
        new DefaultThreadFactory("herd-api"), NioIoHandler.newFactory());
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel listener;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Authenticator authenticator;
    private final KvHandlers kv;
    private final ClusterHandlers clusterHandlers;
    private final ConfigurationHandlers configuration;
    private final OperatorHandlers operator;
    private final String nodeName;
    private volatile ResourceHandlers resources;
    private volatile VolumeHandlers volumes;
    private volatile StorageHandlers storage;

    /** Binds {@code address} at once; requests are taken from {@link #start()} on. */
    public ApiServer(InetSocketAddress address, ClusterAccess cluster, Authenticator authenticator, String nodeName)
        throws IOException {
        this.authenticator = authenticator;
        this.nodeName = nodeName;
        this.kv = new KvHandlers(cluster);
        this.clusterHandlers = new ClusterHandlers(cluster);
        this.configuration = new ConfigurationHandlers(cluster);
        this.operator = new OperatorHandlers(cluster);
        this.listener = bind(address);
    }

    private Channel bind(InetSocketAddress address) throws IOException {
        ChannelFuture bound = new ServerBootstrap().group(eventLoop)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 512)
            .option(ChannelOption.AUTO_READ, false) // no connection is accepted before start()
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel connection) {
                    connections.add(connection);
                    connection.pipeline().addLast(
                        new HttpServerCodec(new HttpDecoderConfig().setMaxInitialLineLength(MAX_REQUEST_HEAD_BYTES)
                            .setMaxHeaderSize(MAX_REQUEST_HEAD_BYTES)),
                        new BodyCollector(),
                        new FlowControlHandler(), // holds a pipelined request until the one before is answered
                        new Dispatcher());
                }
            })
            .bind(address)
            .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            eventLoop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            Throwable cause = bound.cause();
            if (cause instanceof java.net.BindException bindFailure) {
                throw bindFailure;
            }
            throw new IOException("cannot listen on " + address + ": " + cause, cause);
        }
        return bound.channel();
    }

    /** Serves resource management too: heartbeats, actions, status and cleanup (coordinator null on a worker). */
    public void serveResources(ClusterAccess cluster, herd.server.resources.NodeAgent agent,
                               herd.server.resources.LeaderCoordinator coordinator) {
        this.resources = new ResourceHandlers(cluster, agent, coordinator);
    }

    /** Serves the volume and storage APIs too, changing volumes this node serves through its gateway. */
    public void serveVolumes(ClusterAccess cluster, herd.server.storage.NodeStorage storage) {
        this.volumes = new VolumeHandlers(cluster, storage.gateway(), storage.volumeCheck());
        this.storage = new StorageHandlers(cluster, storage);
        clusterHandlers.checkStorageBeforeRemoval(storage::removalRefusal);
    }

    /** Tells other servers where this one takes their forwarded writes (herd.server.EntryChannel). */
    public void serveEntryChannel(int port) {
        clusterHandlers.serveEntryChannel(port);
    }

    public void start() {
        listener.config().setAutoRead(true);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        kv.closeWatches();
        listener.close().awaitUninterruptibly();
        connections.close().awaitUninterruptibly();
        executor.shutdownNow();
        eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Takes each whole request off the event loop's hands: served here when it cannot block, else on a virtual thread. */
    private final class Dispatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            if (!(message instanceof FullHttpRequest request)) {
                ReferenceCountUtil.release(message);
                return;
            }
            Channel connection = context.channel();
            connection.config().setAutoRead(false); // until this request is answered
            if (request.decoderResult().isFailure()) {
                request.release();
                refuseAndClose(connection, 400, "the request is not valid HTTP: " + request.decoderResult().cause().getMessage());
                return;
            }
            NettyExchange exchange;
            try {
                exchange = new NettyExchange(connection, request, () -> connection.config().setAutoRead(true));
            } catch (IllegalArgumentException e) {
                refuseAndClose(connection, 400, "the request's target is not a valid URI: " + e.getMessage());
                return;
            }
            Request parsed = Request.of(exchange);
            if (KvHandlers.servesWithoutBlocking(parsed)) {
                serveKey(parsed, exchange);
            } else {
                executor.execute(() -> handle(exchange));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            log.debug("API connection from {} failed: {}", context.channel().remoteAddress(), cause.toString());
            context.close();
        }
    }

    /**
     * Collects a request's body, up to {@link #MAX_RECEIVED_BODY_BYTES}; a larger one is refused with
     * the API's own error, not the library's empty answer.
     */
    private static final class BodyCollector extends HttpObjectAggregator {
        BodyCollector() {
            super(MAX_RECEIVED_BODY_BYTES);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext context, HttpMessage oversized) {
            ReferenceCountUtil.release(oversized);
            refuseAndClose(context.channel(), 413, "the request body is over " + MAX_BODY_BYTES
                + " bytes: values are limited to 1 MiB");
        }
    }

    /** Answers a request that cannot be served on this connection, then closes it. */
    private static void refuseAndClose(Channel connection, int status, String message) {
        ErrorCode code = status == 413 ? ErrorCode.VALUE_TOO_LARGE : ErrorCode.BAD_REQUEST;
        byte[] body = JsonViews.bytes(JsonViews.error(code, message));
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        connection.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** A get, put or delete of a key, on the event loop: checks here, the answer from the future. */
    private void serveKey(Request request, NettyExchange exchange) {
        CompletableFuture<JsonAnswer> answer;
        try {
            authenticate(request);
            answer = kv.handleKey(request, exchange.eventLoop());
        } catch (ApiException e) {
            answer = CompletableFuture.completedFuture(JsonAnswer.of(e));
        } catch (IOException | RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        // Written from the event loop, where a successful answer was made already (see handleKey); a
        // failure may come from the thread that completed the call, often a Ratis thread.
        answer.whenCompleteAsync((made, failure) -> {
            try (exchange) {
                JsonAnswer written = failure == null ? made : answerFor(request, failure);
                exchange.answerJson(written.status(), JsonViews.bytes(written.body()));
            } catch (RuntimeException e) {
                // Nothing else would see it: the future swallows what its callbacks throw.
                log.error("answering {} {} failed", request.method(), request.path(), e);
            }
        }, exchange.eventLoop());
    }

    /** The answer to a key request that failed: its own error, or 500 for a bug (logged). */
    private static JsonAnswer answerFor(Request request, Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        if (cause instanceof ApiException refusal) {
            return JsonAnswer.of(refusal);
        }
        log.error("request {} {} failed", request.method(), request.path(), cause);
        return JsonAnswer.of(new ApiException(500, ErrorCode.INTERNAL, "internal error: " + cause + " (see the node's log)"));
    }

    private void authenticate(Request request) throws ApiException {
        if (!authenticator.allows(request.exchange().getRequestHeaders().getFirst("Authorization"))) {
            throw new ApiException(401, ErrorCode.UNAUTHORIZED,
                "missing or wrong token: send 'Authorization: Bearer <token>' with the admin token from the data directory's admin.token");
        }
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            Request request = Request.of(exchange);
            try {
                if (request.path().equals("/v1/health")) {
                    Responses.json(exchange, 200, JsonViews.object().put("status", "ok").put("node", nodeName));
                    return;
                }
                authenticate(request);
                route(request);
            } catch (ApiException e) {
                Responses.error(exchange, e);
            }
        } catch (IOException e) {
            log.debug("client went away: {}", e.toString());
        } catch (RuntimeException e) {
            log.error("request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            try {
                Responses.error(exchange, new ApiException(500, ErrorCode.INTERNAL, "internal error: " + e
                    + " (see the node's log)"));
            } catch (IOException ignored) {
                // the client is gone too
            }
        }
    }

    private void route(Request request) throws ApiException, IOException {
        String path = request.path();
        ResourceHandlers resourceHandlers = resources;
        if (resourceHandlers != null && resourceHandlers.handle(request)) {
            return;
        }
        if (operator.handle(request)) {
            return;
        }
        VolumeHandlers volumeHandlers = volumes;
        if (volumeHandlers != null && volumeHandlers.handle(request)) {
            return;
        }
        StorageHandlers storageHandlers = storage;
        if (storageHandlers != null && storageHandlers.handle(request)) {
            return;
        }
        if (path.startsWith("/v1/kv/")) {
            throw new ApiException(405, ErrorCode.BAD_REQUEST, request.method() + " is not allowed on a key; use GET, PUT or DELETE");
        } else if (path.equals("/v1/kv") || path.equals("/v1/kv/")) {
            request.requireMethod("GET");
            kv.list(request);
        } else if (path.equals("/v1/watch")) {
            request.requireMethod("GET");
            kv.watch(request);
        } else if (path.equals("/v1/configuration")) {
            configuration.handle(request);
        } else if (path.startsWith("/v1/")) {
            clusterHandlers.handle(request, path.substring("/v1/".length()));
        } else {
            throw new ApiException(404, ErrorCode.NOT_FOUND, "no such path " + path + ": the API lives under /v1 (see docs/api.md)");
        }
    }

    /** One request: method, decoded path, query parameters, body on demand. */
    record Request(HttpExchange exchange, String method, String path, Map<String, String> params) {
        static Request of(HttpExchange exchange) {
            return new Request(exchange, exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                parseQuery(exchange.getRequestURI().getRawQuery()));
        }

        void requireMethod(String expected) throws ApiException {
            if (!method.equals(expected)) {
                throw new ApiException(405, ErrorCode.BAD_REQUEST, method + " is not allowed on " + path + "; use " + expected);
            }
        }

        String param(String name) {
            return params.get(name);
        }

        /** A yes-or-no query parameter: absent or {@code false} is false, {@code true} is true, anything else is refused. */
        boolean flag(String name) throws ApiException {
            String value = params.get(name);
            if (value == null || value.equals("false")) {
                return false;
            }
            if (value.equals("true")) {
                return true;
            }
            throw ApiException.badRequest("query parameter " + name + "=" + value + " must be true or false");
        }

        long longParam(String name, long fallback) throws ApiException {
            String value = params.get(name);
            if (value == null) {
                return fallback;
            }
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("query parameter " + name + "=" + value + " is not a whole number");
            }
        }

        /**
         * Whether the caller wants a linearizable read ({@code ?consistency=linearizable}, the
         * default) rather than this server's own copy of the state ({@code local}): the flag
         * {@link herd.server.ClusterAccess#query} takes.
         */
        boolean linearizable() throws ApiException {
            String consistency = params.getOrDefault("consistency", "linearizable");
            return switch (consistency) {
                case "linearizable" -> true;
                case "local" -> false;
                default -> throw ApiException.badRequest("consistency=" + consistency + " is unknown: use 'linearizable' (default) or 'local'");
            };
        }

        JsonNode jsonBody() throws ApiException, IOException {
            byte[] body = rawBody();
            if (body.length == 0) {
                throw ApiException.badRequest("the request needs a JSON body (see docs/api.md)");
            }
            try {
                JsonNode node = JsonViews.MAPPER.readTree(body);
                if (node == null || !node.isObject()) {
                    throw ApiException.badRequest("the body must be a JSON object");
                }
                return node;
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw ApiException.badRequest("the body is not valid JSON: " + e.getOriginalMessage());
            }
        }

        /** The body as it came (at most {@link #MAX_BODY_BYTES}). */
        byte[] rawBody() throws ApiException, IOException {
            InputStream in = exchange.getRequestBody();
            long declared = declaredLength();
            if (declared >= 0 && declared <= MAX_BODY_BYTES) {
                // Read into an array of the declared size: reading to the end would allocate a
                // 16 KiB buffer for every request and then copy the body out of it.
                byte[] body = new byte[(int) declared];
                int read = in.readNBytes(body, 0, body.length);
                if (read < body.length) {
                    throw ApiException.badRequest("the request body ended after " + read + " of the " + declared
                        + " bytes its Content-Length announced");
                }
                return body;
            }
            // Chunked (the length shows at the end), or too large: read what is allowed and a byte more.
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                throw new ApiException(413, ErrorCode.VALUE_TOO_LARGE, "the request body is over " + MAX_BODY_BYTES
                    + " bytes: values are limited to 1 MiB");
            }
            return body;
        }

        /** The request's Content-Length, or -1 when it has none (a chunked body). */
        private long declaredLength() throws ApiException {
            String header = exchange.getRequestHeaders().getFirst("Content-Length");
            if (header == null) {
                return -1;
            }
            try {
                return Long.parseLong(header.strip());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Content-Length: " + header + " is not a number of bytes");
            }
        }

        private static Map<String, String> parseQuery(String rawQuery) {
            Map<String, String> params = new HashMap<>();
            if (rawQuery == null || rawQuery.isEmpty()) {
                return params;
            }
            for (String pair : rawQuery.split("&")) {
                int equals = pair.indexOf('=');
                String name = equals < 0 ? pair : pair.substring(0, equals);
                String value = equals < 0 ? "" : pair.substring(equals + 1);
                params.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
            }
            return params;
        }
    }

    /** Writing answers. */
    static final class Responses {
        private Responses() {}

        static void json(HttpExchange exchange, int status, ObjectNode body) throws IOException {
            byte[] bytes = JsonViews.bytes(body);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }

        static void error(HttpExchange exchange, ApiException e) throws IOException {
            json(exchange, e.status(), JsonViews.error(e.code(), e.getMessage()));
        }
    }
}
