package herd.server.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.core.ErrorCode;
import herd.core.codec.Codec;
import herd.core.cluster.NodeInfo;
import herd.core.kv.KeyValue;
import herd.core.kv.KvEvent;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** The JSON shapes of the API, written down once (docs/api.md describes them). */
public final class JsonViews {
    private JsonViews() {}

    /** Pooled buffers: the API parses and writes JSON on many threads (its event loop, a virtual thread per request). */
    public static final ObjectMapper MAPPER = new ObjectMapper(Codec.pooledJsonFactory());

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** {@code node} as JSON bytes. */
    static byte[] bytes(ObjectNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written: " + e.getMessage(), e);
        }
    }

    public static ObjectNode error(ErrorCode code, String message) {
        ObjectNode root = object();
        root.putObject("error").put("code", code.wireName()).put("message", message);
        return root;
    }

    public static ObjectNode kv(KeyValue kv) {
        ObjectNode node = object().put("key", kv.key());
        String text = utf8OrNull(kv.value());
        if (text != null) {
            node.put("value", text);
        } else {
            node.put("valueBase64", Base64.getEncoder().encodeToString(kv.value()));
        }
        return node.put("createRevision", kv.createRevision())
            .put("modRevision", kv.modRevision())
            .put("version", kv.version());
    }

    public static ArrayNode kvs(List<KeyValue> kvs) {
        ArrayNode array = MAPPER.createArrayNode();
        kvs.forEach(kv -> array.add(kv(kv)));
        return array;
    }

    public static ObjectNode event(KvEvent event) {
        ObjectNode node = object().put("type", event.type().name().toLowerCase(Locale.ROOT)).put("revision", event.revision());
        node.set("kv", kv(event.kv()));
        return node;
    }

    public static ObjectNode node(NodeInfo node) {
        ObjectNode json = object()
            .put("name", node.name())
            .put("role", node.role().name().toLowerCase(Locale.ROOT))
            .put("apiAddress", node.apiAddress())
            .put("zone", node.zone());
        if (node.raftAddress() != null) {
            json.put("raftAddress", node.raftAddress());
        }
        return json;
    }

    /** The text when {@code bytes} is valid UTF-8, else null. */
    static String utf8OrNull(byte[] bytes) {
        // Netty's check allocates only a wrapper, where a strict decoder needed a char buffer as
        // large as the value; binary values, which are common, fail it at their first invalid byte.
        return ByteBufUtil.isText(Unpooled.wrappedBuffer(bytes), StandardCharsets.UTF_8)
            ? new String(bytes, StandardCharsets.UTF_8) : null;
    }
}
