package herd.core.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import herd.core.StateImage;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * The wire and disk form of commands, queries, their answers and state images: JSON, with byte
 * arrays as base64, except key writes, reads of one key and their answers, which take the compact
 * form of {@link KvBinary}. One mapper, configured once, so every server encodes identically.
 */
public final class Codec {
    private Codec() {}

    private static final ObjectMapper MAPPER = JsonMapper.builder(pooledJsonFactory())
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .build();
    /** A reader and a writer per type, made once: they are immutable, and making them costs a lookup and garbage. */
    private static final ClassValue<ObjectReader> READERS = new ClassValue<>() {
        @Override
        protected ObjectReader computeValue(Class<?> type) {
            return MAPPER.readerFor(type);
        }
    };
    private static final ClassValue<ObjectWriter> WRITERS = new ClassValue<>() {
        @Override
        protected ObjectWriter computeValue(Class<?> type) {
            return MAPPER.writerFor(type);
        }
    };

    /**
     * A JSON factory whose parsers and generators take their buffers from one pool shared by every
     * thread. Jackson's default keeps them per thread, and the API serves each request on a virtual
     * thread of its own, so every request would allocate fresh buffers (several KiB per parse and
     * per write): about a quarter of the garbage a small write made on each server.
     */
    public static JsonFactory pooledJsonFactory() {
        return JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedBoundedPool()).build();
    }

    /** Key writes in {@link KvBinary}'s form, everything else as JSON. */
    public static byte[] encode(Command command) {
        return switch (command) {
            case Command.KvPut put -> KvBinary.encodePut(put);
            case Command.KvDelete delete -> KvBinary.encodeDelete(delete);
            default -> write(command, Command.class);
        };
    }

    /** Either form: the log holds JSON key writes from builds before {@link KvBinary}. */
    public static Command decodeCommand(byte[] bytes) {
        return KvBinary.isBinary(bytes) ? KvBinary.decodeCommand(bytes) : read(bytes, Command.class);
    }

    public static byte[] encode(Outcome outcome) {
        return switch (outcome) {
            case Outcome.KvWritten written -> KvBinary.encodeWritten(written);
            case Outcome.KvDeleted deleted -> KvBinary.encodeDeleted(deleted);
            default -> write(outcome, Outcome.class);
        };
    }

    public static Outcome decodeOutcome(byte[] bytes) {
        return KvBinary.isBinary(bytes) ? KvBinary.decodeOutcome(bytes) : read(bytes, Outcome.class);
    }

    /** Reads of one key in {@link KvBinary}'s form, everything else as JSON. */
    public static byte[] encode(Query query) {
        return query instanceof Query.KvGet get ? KvBinary.encodeGet(get) : write(query, Query.class);
    }

    public static Query decodeQuery(byte[] bytes) {
        return KvBinary.isBinary(bytes) ? KvBinary.decodeQuery(bytes) : read(bytes, Query.class);
    }

    public static byte[] encode(QueryResult result) {
        return result instanceof QueryResult.KvValue value ? KvBinary.encodeValue(value) : write(result, QueryResult.class);
    }

    public static QueryResult decodeQueryResult(byte[] bytes) {
        return KvBinary.isBinary(bytes) ? KvBinary.decodeQueryResult(bytes) : read(bytes, QueryResult.class);
    }

    public static void writeImage(StateImage image, OutputStream out) throws IOException {
        WRITERS.get(StateImage.class).writeValue(new NonClosingOutputStream(out), image);
    }

    public static StateImage readImage(InputStream in) throws IOException {
        return READERS.get(StateImage.class).readValue(in);
    }

    private static <T> byte[] write(T value, Class<T> type) {
        try {
            return WRITERS.get(type).writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value, e);
        }
    }

    private static <T> T read(byte[] bytes, Class<T> type) {
        try {
            return READERS.get(type).readValue(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode a " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Jackson closes the stream it writes to; snapshot writers own theirs. */
    private static final class NonClosingOutputStream extends java.io.FilterOutputStream {
        NonClosingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
