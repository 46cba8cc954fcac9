package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import herd.core.ErrorCode;
import herd.server.ClusterAccess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/JSON API under {@code /v1}, served on the node's configured address only. Each request
 * runs on its own virtual thread, so handlers simply block on the cluster.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    static {
        disableNagle();
    }

    /**
     * The JDK's HTTP server leaves Nagle's algorithm on by default: a response written as headers then
     * body waits for the client's delayed ACK (about 40 ms) before its second part leaves. Requests
     * between nodes (object copies, forwarded writes) paid that on every call. Read once, when the
     * JDK's server configuration loads, so every HTTP server of the process calls this first.
     */
    public static void disableNagle() {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    /** Largest request body: a 1 MiB value in base64 inside JSON, with room to spare. */
    static final int MAX_BODY_BYTES = 2 * 1024 * 1024;

    private final HttpServer http;
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

    public ApiServer(InetSocketAddress address, ClusterAccess cluster, Authenticator authenticator, String nodeName)
        throws IOException {
        this.authenticator = authenticator;
        this.nodeName = nodeName;
        this.kv = new KvHandlers(cluster);
        this.clusterHandlers = new ClusterHandlers(cluster);
        this.configuration = new ConfigurationHandlers(cluster);
        this.operator = new OperatorHandlers(cluster);
        this.http = HttpServer.create(address, 512);
        this.http.createContext("/", this::handle);
        this.http.setExecutor(executor);
    }

    /** Serves resource management too: heartbeats, actions, status and cleanup (coordinator null on a worker). */
    public void serveResources(ClusterAccess cluster, herd.server.resources.NodeAgent agent,
                               herd.server.resources.LeaderCoordinator coordinator) {
        this.resources = new ResourceHandlers(cluster, agent, coordinator);
    }

    /** Serves the volume and storage APIs too, changing volumes this node serves through its gateway. */
    public void serveVolumes(ClusterAccess cluster, herd.server.storage.NodeStorage storage) {
        this.volumes = new VolumeHandlers(cluster, storage.gateway());
        this.storage = new StorageHandlers(cluster, storage);
        clusterHandlers.checkStorageBeforeRemoval(storage::removalRefusal);
    }

    /** Tells other servers where this one takes their forwarded writes (herd.server.EntryChannel). */
    public void serveEntryChannel(int port) {
        clusterHandlers.serveEntryChannel(port);
    }

    public void start() {
        http.start();
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    @Override
    public void close() {
        kv.closeWatches();
        http.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            Request request = Request.of(exchange);
            try {
                if (request.path().equals("/v1/health")) {
                    Responses.json(exchange, 200, JsonViews.object().put("status", "ok").put("node", nodeName));
                    return;
                }
                if (!authenticator.allows(exchange.getRequestHeaders().getFirst("Authorization"))) {
                    throw new ApiException(401, ErrorCode.UNAUTHORIZED,
                        "missing or wrong token: send 'Authorization: Bearer <token>' with the admin token from the data directory's admin.token");
                }
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
            kv.handleKey(request, path.substring("/v1/kv/".length()));
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

        boolean localRead() throws ApiException {
            String consistency = params.getOrDefault("consistency", "linearizable");
            return switch (consistency) {
                case "linearizable" -> false;
                case "local" -> true;
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
            byte[] bytes = JsonViews.MAPPER.writeValueAsBytes(body);
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
