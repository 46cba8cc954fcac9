package herd.core.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * arrays as base64. One mapper, configured once, so every server encodes identically.
 */
public final class Codec {
    private Codec() {}

    private static final ObjectMapper MAPPER = JsonMapper.builder()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .build();

    public static byte[] encode(Command command) {
        return write(command, Command.class);
    }

    public static Command decodeCommand(byte[] bytes) {
        return read(bytes, Command.class);
    }

    public static byte[] encode(Outcome outcome) {
        return write(outcome, Outcome.class);
    }

    public static Outcome decodeOutcome(byte[] bytes) {
        return read(bytes, Outcome.class);
    }

    public static byte[] encode(Query query) {
        return write(query, Query.class);
    }

    public static Query decodeQuery(byte[] bytes) {
        return read(bytes, Query.class);
    }

    public static byte[] encode(QueryResult result) {
        return write(result, QueryResult.class);
    }

    public static QueryResult decodeQueryResult(byte[] bytes) {
        return read(bytes, QueryResult.class);
    }

    public static void writeImage(StateImage image, OutputStream out) throws IOException {
        MAPPER.writerFor(StateImage.class).writeValue(new NonClosingOutputStream(out), image);
    }

    public static StateImage readImage(InputStream in) throws IOException {
        return MAPPER.readerFor(StateImage.class).readValue(in);
    }

    private static <T> byte[] write(T value, Class<T> type) {
        try {
            return MAPPER.writerFor(type).writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value, e);
        }
    }

    private static <T> T read(byte[] bytes, Class<T> type) {
        try {
            return MAPPER.readerFor(type).readValue(bytes);
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
