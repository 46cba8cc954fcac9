package herd.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import herd.core.ErrorCode;
import herd.core.Limits;
import herd.core.command.Command;
import herd.core.command.CommandValidator;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.kv.KvEvent;
import herd.core.kv.WatchBatch;
import herd.core.kv.WatchFilter;
import herd.server.ClusterAccess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/** The key-value part of the API: get, put (with compare-and-set), delete, list, watch. */
final class KvHandlers {
    /** Most watch streams one node serves at once; each holds a virtual thread and a connection. */
    static final int MAX_WATCH_STREAMS = 256;
    /** A watch with nothing to report sends a progress line this often, so clients see it is alive. */
    static final long WATCH_PROGRESS_INTERVAL_MILLIS = 5_000;
    private static final String KEY_PATH = "/v1/kv/";

    private final ClusterAccess cluster;
    private final Semaphore watchSlots = new Semaphore(MAX_WATCH_STREAMS);
    private final Set<HttpExchange> openWatches = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    KvHandlers(ClusterAccess cluster) {
        this.cluster = cluster;
    }

    /** True for the requests {@link #handleKey} serves: a get, put or delete of one key. */
    static boolean servesWithoutBlocking(ApiServer.Request request) {
        return request.path().startsWith(KEY_PATH) && switch (request.method()) {
            case "GET", "PUT", "DELETE" -> true;
            default -> false;
        };
    }

    /**
     * Serves a get, put or delete of one key without blocking: the API's event loop calls it, and
     * the answer is written from the future's completion. Bad input fails at once, as everywhere.
     * The answer is made on {@code answerOn} (the connection's event loop), not on the thread that
     * completed the call.
     */
    CompletableFuture<JsonAnswer> handleKey(ApiServer.Request request, Executor answerOn) throws ApiException, IOException {
        String key = request.path().substring(KEY_PATH.length());
        return switch (request.method()) {
            case "GET" -> get(request, key, answerOn);
            case "PUT" -> put(request, key, answerOn);
            case "DELETE" -> delete(request, key, answerOn);
            default -> throw new ApiException(405, ErrorCode.BAD_REQUEST, request.method()
                + " is not allowed on a key; use GET, PUT or DELETE");
        };
    }

    private CompletableFuture<JsonAnswer> get(ApiServer.Request request, String key, Executor answerOn) throws ApiException {
        return JsonAnswer.from(cluster.queryAsync(new Query.KvGet(key), request.linearizable(), answerOn), result -> {
            QueryResult.KvValue value = expect(result, QueryResult.KvValue.class);
            if (value.kv() == null) {
                ObjectNode body = JsonViews.error(ErrorCode.KEY_NOT_FOUND, "key '" + key + "' does not exist");
                body.put("revision", value.revision());
                return new JsonAnswer(404, body);
            }
            ObjectNode body = JsonViews.object().put("revision", value.revision());
            body.set("kv", JsonViews.kv(value.kv()));
            return new JsonAnswer(200, body);
        });
    }

    private CompletableFuture<JsonAnswer> put(ApiServer.Request request, String key, Executor answerOn)
        throws ApiException, IOException {
        JsonNode body = request.jsonBody();
        byte[] value = valueOf(body);
        Command put = new Command.KvPut(key, value, optionalRevision(body.get("expectRevision")));
        return JsonAnswer.from(submitValid(put, answerOn), outcome -> answer(outcome, value));
    }

    private CompletableFuture<JsonAnswer> delete(ApiServer.Request request, String key, Executor answerOn) throws ApiException {
        String expected = request.param("expectRevision");
        Long expectRevision = expected == null ? null : request.longParam("expectRevision", 0);
        return JsonAnswer.from(submitValid(new Command.KvDelete(key, expectRevision), answerOn), outcome -> answer(outcome, null));
    }

    void list(ApiServer.Request request) throws ApiException, IOException {
        String prefix = request.params().getOrDefault("prefix", "");
        long limit = request.longParam("limit", 1000);
        if (limit < 1 || limit > Limits.MAX_LIST_LIMIT) {
            throw ApiException.badRequest("limit=" + limit + " is out of range: give 1 to " + Limits.MAX_LIST_LIMIT);
        }
        QueryResult.KvRange range = expect(cluster.query(new Query.KvList(prefix, (int) limit), request.linearizable()),
            QueryResult.KvRange.class);
        ObjectNode body = JsonViews.object().put("revision", range.revision());
        body.set("kvs", JsonViews.kvs(range.kvs()));
        body.put("more", range.more());
        ApiServer.Responses.json(request.exchange(), 200, body);
    }

    /**
     * Streams changes as JSON lines. Changes are read from this node's own state, which applies the
     * log in order, so a stream never skips or reorders; it may trail the leader by a moment.
     */
    void watch(ApiServer.Request request) throws ApiException, IOException {
        WatchFilter filter = filterOf(request);
        long from = request.param("fromRevision") != null
            ? request.longParam("fromRevision", 0)
            : expect(cluster.query(new Query.Summary(), true), QueryResult.ClusterSummary.class).revision() + 1;
        if (from < 1) {
            throw ApiException.badRequest("fromRevision=" + from + " must be 1 or more");
        }
        if (!watchSlots.tryAcquire()) {
            throw new ApiException(503, ErrorCode.UNAVAILABLE, "this node already serves " + MAX_WATCH_STREAMS
                + " watches: close some, or watch through another node");
        }
        try {
            long appliedIndex = cluster.appliedSignal().appliedIndex();
            WatchBatch first = localChanges(from, filter);
            if (first.isRefused()) {
                throw ApiException.of(first.refusal());
            }
            HttpExchange exchange = request.exchange();
            exchange.getResponseHeaders().set("Content-Type", "application/x-ndjson");
            exchange.sendResponseHeaders(200, 0);
            openWatches.add(exchange);
            try (OutputStream out = exchange.getResponseBody()) {
                stream(out, from, filter, first, appliedIndex);
            } finally {
                openWatches.remove(exchange);
            }
        } finally {
            watchSlots.release();
        }
    }

    /** {@code seenIndex}: the applied log index {@code batch} was read at (or after). */
    private void stream(OutputStream out, long from, WatchFilter filter, WatchBatch batch, long seenIndex)
        throws IOException {
        long next = from;
        while (!closing) {
            for (KvEvent event : batch.events()) {
                writeLine(out, JsonViews.event(event));
                next = event.revision() + 1;
            }
            if (batch.isRefused()) {
                writeLine(out, JsonViews.error(batch.refusal().code(), batch.refusal().message()));
                return;
            }
            if (batch.events().size() < Limits.MAX_WATCH_BATCH) {
                // caught up: sleep until something is applied, or say we are alive
                long appliedBefore = seenIndex;
                try {
                    seenIndex = cluster.appliedSignal().awaitAbove(seenIndex, WATCH_PROGRESS_INTERVAL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (seenIndex == appliedBefore) {
                    writeLine(out, JsonViews.object().put("type", "progress").put("revision", batch.currentRevision()));
                }
            }
            batch = localChanges(next, filter);
        }
    }

    void closeWatches() {
        closing = true;
        openWatches.forEach(HttpExchange::close);
    }

    private WatchBatch localChanges(long from, WatchFilter filter) {
        try {
            return expect(cluster.query(new Query.KvWatch(from, filter), false), QueryResult.KvChanges.class).batch();
        } catch (ApiException e) {
            throw new IllegalStateException("a local read cannot fail: " + e.getMessage(), e);
        }
    }

    private static void writeLine(OutputStream out, ObjectNode line) throws IOException {
        out.write(JsonViews.MAPPER.writeValueAsBytes(line));
        out.write('\n');
        out.flush();
    }

    private static WatchFilter filterOf(ApiServer.Request request) throws ApiException {
        String key = request.param("key");
        String prefix = request.param("prefix");
        if (key != null && prefix != null) {
            throw ApiException.badRequest("give either key= or prefix=, not both");
        }
        return key != null ? WatchFilter.key(key) : WatchFilter.prefix(prefix == null ? "" : prefix);
    }

    private CompletableFuture<Outcome> submitValid(Command command, Executor answerOn) throws ApiException {
        var invalid = CommandValidator.validate(command);
        if (invalid.isPresent()) {
            throw ApiException.of(invalid.get());
        }
        return cluster.submitAsync(command, answerOn);
    }

    /** Answers a put ({@code written} is the value it wrote) or a delete ({@code written} is null). */
    private static JsonAnswer answer(Outcome outcome, byte[] written) throws ApiException {
        return switch (outcome) {
            case Outcome.KvWritten put -> {
                ObjectNode body = JsonViews.object().put("revision", put.revision());
                body.set("kv", JsonViews.kv(put.withValue(written)));
                yield new JsonAnswer(200, body);
            }
            case Outcome.KvDeleted deleted ->
                new JsonAnswer(200, JsonViews.object().put("revision", deleted.revision()).put("deleted", deleted.deleted()));
            case Outcome.RevisionMismatch mismatch -> {
                long actual = mismatch.current() == null ? 0 : mismatch.current().modRevision();
                ObjectNode body = JsonViews.error(ErrorCode.REVISION_MISMATCH, "key '" + mismatch.key() + "' is at revision "
                    + actual + ", not " + mismatch.expectedRevision() + ": read it again and retry with its current modRevision");
                body.put("revision", mismatch.revision());
                body.set("current", mismatch.current() == null ? null : JsonViews.kv(mismatch.current()));
                yield new JsonAnswer(409, body);
            }
            case Outcome.Rejected rejected -> throw ApiException.of(rejected.rejection());
            case Outcome.Applied applied -> new JsonAnswer(200, JsonViews.object().put("result", applied.description()));
        };
    }

    private static byte[] valueOf(JsonNode body) throws ApiException {
        JsonNode text = body.get("value");
        JsonNode base64 = body.get("valueBase64");
        if ((text == null) == (base64 == null)) {
            throw ApiException.badRequest("give exactly one of \"value\" (text) or \"valueBase64\" (bytes)");
        }
        if (text != null) {
            if (!text.isTextual()) {
                throw ApiException.badRequest("\"value\" must be a JSON string; use \"valueBase64\" for bytes");
            }
            return text.textValue().getBytes(StandardCharsets.UTF_8);
        }
        if (!base64.isTextual()) {
            throw ApiException.badRequest("\"valueBase64\" must be a base64 string");
        }
        try {
            return Base64.getDecoder().decode(base64.textValue());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("\"valueBase64\" is not valid base64: " + e.getMessage());
        }
    }

    private static Long optionalRevision(JsonNode node) throws ApiException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.canConvertToExactIntegral() || !node.canConvertToLong()) {
            throw ApiException.badRequest("\"expectRevision\" must be a whole number (0 = the key must not exist)");
        }
        return node.longValue();
    }

    static <T extends QueryResult> T expect(QueryResult result, Class<T> type) throws ApiException {
        if (result instanceof QueryResult.Refused refused) {
            throw ApiException.of(refused.rejection());
        }
        return type.cast(result);
    }
}
