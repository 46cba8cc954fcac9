package herd.server.storage;

import com.sun.net.httpserver.HttpExchange;
import herd.block.Done;
import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node-to-node object protocol on the API port, both ends. Bodies are raw bytes; an error is a
 * status with an {@link #ERROR_HEADER} that names it exactly (the body says it in words):
 *
 * <pre>
 * GET  /v1/internal/objects/{id}?epoch&offset&length     read                 -> bytes
 * PUT  /v1/internal/objects/{id}?epoch&offset            write (body)
 * POST /v1/internal/objects/{id}/zeroes?epoch&offset&length&allocate
 * POST /v1/internal/objects/{id}/trim?epoch&offset&length
 * GET  /v1/internal/objects/{id}/allocation?epoch        -> 128-byte bitmap
 * GET  /v1/internal/objects/{id}/stamp?epoch             -> stamp (8 bytes), exists (1 byte)
 * GET  /v1/internal/objects/{id}/copy?epoch              -> stamp, bitmap, allocated blocks
 * POST /v1/internal/objects/{id}/repair?epoch&from=NODE  replace this copy with NODE's
 * POST /v1/internal/objects/{id}/verify?epoch            read and check every block of this copy
 * POST /v1/internal/objects/flush                        body: ids, one per line
 * GET  /v1/internal/objects                              -> ids held, one per line
 * GET  /v1/internal/objects/channel                      -> the port of the node's {@link ObjectChannel}
 * </pre>
 *
 * Reads, writes and flushes of the data path go over the {@link ObjectChannel} of a node that names
 * one; the HTTP forms stay for nodes that do not.
 *
 * Error header values: {@code not-found}, {@code corrupt BLOCK}, {@code no-space REQUESTED FREE},
 * {@code io}, {@code retry}.
 */
public final class ObjectWire {
    static final String PREFIX = "/v1/internal/objects/";
    static final String LIST_PATH = "/v1/internal/objects";
    static final String FLUSH_PATH = "/v1/internal/objects/flush";
    public static final String CHANNEL_PATH = "/v1/internal/objects/channel";
    static final String ERROR_HEADER = "Herd-Object-Error";
    /** The largest body: one whole object. */
    static final int MAX_BODY_BYTES = ObjectId.OBJECT_SIZE_BYTES;

    private ObjectWire() {}

    static String path(ObjectId id, String suffix) {
        return PREFIX + id.hex() + suffix;
    }

    /** True when the path belongs to this protocol. */
    public static boolean handles(String path) {
        return path.equals(LIST_PATH) || path.startsWith(PREFIX);
    }

    // ---- the serving end ----

    /** Answers one request of the protocol from this node's {@code service}. */
    public static void serve(HttpExchange exchange, ObjectService service) throws IOException {
        String path = exchange.getRequestURI().getPath();
        Map<String, String> params = params(exchange.getRequestURI().getRawQuery());
        String method = exchange.getRequestMethod();
        try {
            if (path.equals(LIST_PATH) && method.equals("GET")) {
                List<String> ids = service.list().stream().map(ObjectId::hex).toList();
                send(exchange, 200, String.join("\n", ids).getBytes(StandardCharsets.US_ASCII));
                return;
            }
            if (path.equals(FLUSH_PATH) && method.equals("POST")) {
                List<ObjectId> ids = new ArrayList<>();
                for (String line : new String(body(exchange), StandardCharsets.US_ASCII).split("\n")) {
                    if (!line.isBlank()) {
                        ids.add(ObjectId.parseHex(line.strip()));
                    }
                }
                answer(exchange, service.flush(ids), ObjectWire::noBody);
                return;
            }
            String rest = path.substring(PREFIX.length());
            int slash = rest.indexOf('/');
            ObjectId id = ObjectId.parseHex(slash < 0 ? rest : rest.substring(0, slash));
            String action = slash < 0 ? "" : rest.substring(slash + 1);
            long epoch = number(params, "epoch");
            switch (method + " " + action) {
                case "GET " -> {
                    int length = (int) number(params, "length");
                    checkRange(number(params, "offset"), length);
                    ByteBuffer into = ByteBuffer.allocate(length);
                    answer(exchange, service.read(epoch, id, (int) number(params, "offset"), into), done -> into.array());
                }
                case "PUT " -> {
                    byte[] bytes = body(exchange);
                    checkRange(number(params, "offset"), bytes.length);
                    answer(exchange, service.write(epoch, id, (int) number(params, "offset"), ByteBuffer.wrap(bytes)),
                        ObjectWire::noBody);
                }
                case "POST zeroes" -> {
                    checkRange(number(params, "offset"), number(params, "length"));
                    answer(exchange, service.writeZeroes(epoch, id, (int) number(params, "offset"),
                        (int) number(params, "length"), Boolean.parseBoolean(params.get("allocate"))), ObjectWire::noBody);
                }
                case "POST trim" -> {
                    checkRange(number(params, "offset"), number(params, "length"));
                    answer(exchange, service.trim(epoch, id, (int) number(params, "offset"), (int) number(params, "length")),
                        ObjectWire::noBody);
                }
                case "GET allocation" -> answer(exchange, service.allocation(epoch, id), ObjectWire::encodeAllocation);
                case "GET stamp" -> answer(exchange, service.stamp(epoch, id), ObjectWire::encodeStamp);
                case "GET copy" -> answer(exchange, service.copyOut(epoch, id), ObjectWire::encodeCopy);
                case "POST repair" -> answer(exchange, service.repairFrom(epoch, id, params.getOrDefault("from", "")),
                    ObjectWire::noBody);
                case "POST mend" -> answer(exchange, service.mendFrom(epoch, id, params.getOrDefault("from", "")),
                    ObjectWire::noBody);
                case "POST restore" -> {
                    checkRange(number(params, "offset"), number(params, "length"));
                    answer(exchange, service.restoreFrom(epoch, id, params.getOrDefault("from", ""),
                        (int) number(params, "offset"), (int) number(params, "length")), ObjectWire::noBody);
                }
                case "POST verify" -> answer(exchange, service.verify(epoch, id), ObjectWire::noBody);
                default -> sendError(exchange, 404, "io", "no object operation " + method + " " + path);
            }
        } catch (IllegalArgumentException e) {
            sendError(exchange, 400, "io", "bad object request " + method + " " + path + ": " + e.getMessage());
        }
    }

    /** Answers {@link #CHANNEL_PATH}. */
    public static void answerChannelPort(HttpExchange exchange, int port) throws IOException {
        send(exchange, 200, Integer.toString(port).getBytes(StandardCharsets.US_ASCII));
    }

    private interface Encoder<T> {
        byte[] encode(T value);
    }

    private static <T> void answer(HttpExchange exchange, CopyReply<T> reply, Encoder<T> encoder) throws IOException {
        if (reply instanceof CopyReply.Ok<T> ok) {
            send(exchange, 200, encoder.encode(ok.value()));
        } else {
            WireError error = WireError.of(reply);
            sendError(exchange, error.httpStatus(), error.kind(), error.message());
        }
    }

    /**
     * A reply other than Ok as both ends of the node-to-node protocols carry it: an HTTP status, the
     * kind that {@link #decodeError} reads back, and words for people.
     */
    record WireError(int httpStatus, String kind, String message) {
        static WireError of(CopyReply<?> reply) {
            return switch (reply) {
                case CopyReply.Ok<?> ok -> throw new IllegalArgumentException("an Ok reply is no error");
                case CopyReply.Retry<?> retry -> new WireError(409, "retry", retry.reason());
                case CopyReply.Failed<?> failed -> switch (failed.error()) {
                    case ObjectError.NotFound notFound -> new WireError(404, "not-found", notFound.describe());
                    case ObjectError.Corrupt corrupt -> new WireError(500, "corrupt " + corrupt.blockIndex(),
                        corrupt.describe());
                    case ObjectError.NoSpace noSpace -> new WireError(507, "no-space " + noSpace.requestedBytes() + " "
                        + noSpace.freeBytes(), noSpace.describe());
                    case ObjectError.IoFailure io -> new WireError(500, "io", io.describe());
                };
            };
        }
    }

    private static byte[] noBody(Done ignored) {
        return new byte[0];
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static void sendError(HttpExchange exchange, int status, String kind, String message) throws IOException {
        exchange.getResponseHeaders().set(ERROR_HEADER, kind);
        byte[] body = message.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] body(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("the body is over one object (" + MAX_BODY_BYTES + " bytes)");
        }
        return body;
    }

    static void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > ObjectId.OBJECT_SIZE_BYTES) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " does not fit in one object");
        }
    }

    private static long number(Map<String, String> params, String name) {
        String value = params.get(name);
        if (value == null) {
            throw new IllegalArgumentException("parameter " + name + " is missing");
        }
        return Long.parseLong(value);
    }

    private static Map<String, String> params(String rawQuery) {
        Map<String, String> params = new HashMap<>();
        if (rawQuery != null) {
            for (String pair : rawQuery.split("&")) {
                int equals = pair.indexOf('=');
                if (equals > 0) {
                    params.put(pair.substring(0, equals),
                        java.net.URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return params;
    }

    // ---- encodings ----

    static byte[] encodeAllocation(AllocationMap allocation) {
        ByteBuffer buffer = ByteBuffer.allocate(AllocationMap.WORDS * Long.BYTES);
        for (long word : allocation.toWords()) {
            buffer.putLong(word);
        }
        return buffer.array();
    }

    static AllocationMap decodeAllocation(byte[] bytes) {
        return readAllocation(ByteBuffer.wrap(bytes));
    }

    private static AllocationMap readAllocation(ByteBuffer buffer) {
        long[] words = new long[AllocationMap.WORDS];
        for (int i = 0; i < words.length; i++) {
            words[i] = buffer.getLong();
        }
        return AllocationMap.ofWords(words);
    }

    static byte[] encodeStamp(ObjectService.StampInfo stamp) {
        return ByteBuffer.allocate(Long.BYTES + 1).putLong(stamp.stamp()).put((byte) (stamp.exists() ? 1 : 0)).array();
    }

    static ObjectService.StampInfo decodeStamp(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new ObjectService.StampInfo(buffer.getLong(), buffer.get() != 0);
    }

    static byte[] encodeCopy(ObjectCopy copy) {
        ByteBuffer buffer = ByteBuffer.allocate(Long.BYTES + AllocationMap.WORDS * Long.BYTES + copy.allocatedBlocks().length);
        buffer.putLong(copy.stamp()).put(encodeAllocation(copy.allocation())).put(copy.allocatedBlocks());
        return buffer.array();
    }

    static ObjectCopy decodeCopy(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        long stamp = buffer.getLong();
        AllocationMap allocation = readAllocation(buffer);
        byte[] blocks = new byte[buffer.remaining()];
        buffer.get(blocks);
        if (blocks.length != allocation.allocatedBlocks() * AllocationMap.BLOCK_SIZE_BYTES) {
            throw new IllegalArgumentException("a copy with " + allocation.allocatedBlocks() + " allocated blocks carried "
                + blocks.length + " bytes");
        }
        return new ObjectCopy(stamp, allocation, blocks);
    }

    /** The reply an error answer stands for. */
    static <T> CopyReply<T> decodeError(int status, Optional<String> header, String message, String node, ObjectId id) {
        String kind = header.orElse("");
        String[] parts = kind.split(" ");
        ObjectId unknown = id;
        return switch (parts[0]) {
            case "retry" -> CopyReply.retry("node " + node + ": " + message);
            case "not-found" -> new CopyReply.Failed<>(new ObjectError.NotFound(unknown));
            case "corrupt" -> new CopyReply.Failed<>(new ObjectError.Corrupt(unknown, Integer.parseInt(parts[1])));
            case "no-space" -> new CopyReply.Failed<>(new ObjectError.NoSpace(Long.parseLong(parts[1]), Long.parseLong(parts[2])));
            case "io" -> new CopyReply.Failed<>(new ObjectError.IoFailure(unknown, "node " + node + ": " + message));
            // no object header: not a herd object service answering (a proxy, an older node, 401, 503)
            default -> CopyReply.retry("node " + node + " answered HTTP " + status + ": " + message);
        };
    }
}
