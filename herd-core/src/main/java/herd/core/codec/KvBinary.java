package herd.core.codec;

import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.kv.KeyValue;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A compact binary form for the commands and outcomes of key writes, the control plane's most
 * frequent entries, and for reads of one key and their answers. Every server decodes every command
 * on its one apply thread and encodes its outcome there, and JSON with a base64 value made a put
 * cost about 4 KiB of garbage on that thread alone (parser, text buffers, base64 buffers) against a
 * few hundred bytes here.
 *
 * <p>Each form starts with a tag byte that JSON never starts with ({@code '{'}) and that a batch of
 * commands never starts with (a zero byte), so {@link Codec} tells them apart by the first byte and
 * still reads the JSON that earlier builds wrote into the log. Numbers are big-endian; a string is a
 * 4-byte length (-1 for null) and its UTF-8 bytes; a put's value is the rest of the bytes.
 */
final class KvBinary {
    static final byte PUT = 1;
    static final byte DELETE = 2;
    static final byte WRITTEN = 3;
    static final byte DELETED = 4;
    static final byte GET = 5;
    static final byte VALUE = 6;

    private static final int HAS_EXPECTED_REVISION = 1;
    private static final int HAS_VALUE = 2;

    private KvBinary() {}

    /** Whether {@code bytes} is in this form (else it is JSON, or damaged). */
    static boolean isBinary(byte[] bytes) {
        return bytes.length > 0 && bytes[0] >= PUT && bytes[0] <= VALUE;
    }

    static byte[] encodePut(Command.KvPut put) {
        byte[] key = utf8(put.key());
        byte[] value = put.value();
        ByteBuffer out = ByteBuffer.allocate(2 + revisionSize(put.expectRevision()) + stringSize(key)
            + (value == null ? 0 : value.length));
        out.put(PUT).put((byte) (flagOf(put.expectRevision()) | (value == null ? 0 : HAS_VALUE)));
        putRevision(out, put.expectRevision());
        putString(out, key);
        if (value != null) {
            out.put(value);
        }
        return out.array();
    }

    static byte[] encodeDelete(Command.KvDelete delete) {
        byte[] key = utf8(delete.key());
        ByteBuffer out = ByteBuffer.allocate(2 + revisionSize(delete.expectRevision()) + stringSize(key));
        out.put(DELETE).put((byte) flagOf(delete.expectRevision()));
        putRevision(out, delete.expectRevision());
        putString(out, key);
        return out.array();
    }

    static byte[] encodeWritten(Outcome.KvWritten written) {
        byte[] key = utf8(written.key());
        ByteBuffer out = ByteBuffer.allocate(1 + 3 * Long.BYTES + stringSize(key));
        out.put(WRITTEN).putLong(written.revision()).putLong(written.createRevision()).putLong(written.version());
        putString(out, key);
        return out.array();
    }

    static byte[] encodeDeleted(Outcome.KvDeleted deleted) {
        return ByteBuffer.allocate(1 + Long.BYTES + Integer.BYTES)
            .put(DELETED).putLong(deleted.revision()).putInt(deleted.deleted()).array();
    }

    static byte[] encodeGet(Query.KvGet get) {
        byte[] key = utf8(get.key());
        ByteBuffer out = ByteBuffer.allocate(1 + stringSize(key));
        out.put(GET);
        putString(out, key);
        return out.array();
    }

    /** The revision, then whether the key exists and if so its revisions, key and value. */
    static byte[] encodeValue(QueryResult.KvValue answer) {
        KeyValue kv = answer.kv();
        if (kv == null) {
            return ByteBuffer.allocate(2 + Long.BYTES).put(VALUE).putLong(answer.revision()).put((byte) 0).array();
        }
        byte[] key = utf8(kv.key());
        ByteBuffer out = ByteBuffer.allocate(2 + 4 * Long.BYTES + stringSize(key) + kv.value().length);
        out.put(VALUE).putLong(answer.revision()).put((byte) 1)
            .putLong(kv.createRevision()).putLong(kv.modRevision()).putLong(kv.version());
        putString(out, key);
        out.put(kv.value());
        return out.array();
    }

    // Each decoder wraps and catches for itself on purpose: folded into one helper that takes the
    // reading as a Function, the buffer escapes and every decode allocates 80 bytes more
    // (bench/control-plane/apply-cost/run: 320 against 400 bytes per decode).

    /** A query in this form; throws IllegalArgumentException, saying why, when it is damaged. */
    static Query decodeQuery(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            if (in.get() != GET) {
                throw new IllegalArgumentException("not a binary query (tag " + bytes[0] + ")");
            }
            return complete(in, new Query.KvGet(getString(in)));
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a binary query ends early (" + bytes.length + " bytes)", e);
        }
    }

    /** A query's answer in this form; throws IllegalArgumentException, saying why, when it is damaged. */
    static QueryResult decodeQueryResult(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            if (in.get() != VALUE) {
                throw new IllegalArgumentException("not a binary query answer (tag " + bytes[0] + ")");
            }
            long revision = in.getLong();
            byte exists = in.get();
            if (exists == 0) {
                return complete(in, new QueryResult.KvValue(revision, null));
            }
            if (exists != 1) {
                throw new IllegalArgumentException("a key's presence is " + exists + ", neither 0 nor 1");
            }
            long createRevision = in.getLong();
            long modRevision = in.getLong();
            long version = in.getLong();
            String key = getString(in);
            if (key == null) {
                throw new IllegalArgumentException("a binary query answer holds a value without its key");
            }
            byte[] value = new byte[in.remaining()];
            in.get(value);
            return new QueryResult.KvValue(revision, new KeyValue(key, value, createRevision, modRevision, version));
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a binary query answer is damaged (" + bytes.length + " bytes)", e);
        }
    }

    /** A command in this form; throws IllegalArgumentException, saying why, when it is damaged. */
    static Command decodeCommand(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return switch (in.get()) {
                case PUT -> {
                    int flags = flags(in, HAS_EXPECTED_REVISION | HAS_VALUE);
                    Long expectRevision = revisionOf(in, flags);
                    String key = getString(in);
                    if ((flags & HAS_VALUE) == 0) {
                        yield complete(in, new Command.KvPut(key, null, expectRevision));
                    }
                    byte[] value = new byte[in.remaining()];
                    in.get(value);
                    yield new Command.KvPut(key, value, expectRevision);
                }
                case DELETE -> {
                    int flags = flags(in, HAS_EXPECTED_REVISION);
                    Long expectRevision = revisionOf(in, flags);
                    yield complete(in, new Command.KvDelete(getString(in), expectRevision));
                }
                default -> throw new IllegalArgumentException("not a binary command (tag " + bytes[0] + ")");
            };
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a binary command ends early (" + bytes.length + " bytes)", e);
        }
    }

    /** An outcome in this form; throws IllegalArgumentException, saying why, when it is damaged. */
    static Outcome decodeOutcome(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return switch (in.get()) {
                case WRITTEN -> {
                    long revision = in.getLong();
                    long createRevision = in.getLong();
                    long version = in.getLong();
                    yield complete(in, new Outcome.KvWritten(revision, getString(in), createRevision, version));
                }
                case DELETED -> complete(in, new Outcome.KvDeleted(in.getLong(), in.getInt()));
                default -> throw new IllegalArgumentException("not a binary outcome (tag " + bytes[0] + ")");
            };
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a binary outcome ends early (" + bytes.length + " bytes)", e);
        }
    }

    private static int flags(ByteBuffer in, int known) {
        int flags = in.get();
        if ((flags & ~known) != 0) {
            throw new IllegalArgumentException("unknown flags " + Integer.toBinaryString(flags) + " in a binary command");
        }
        return flags;
    }

    private static int flagOf(Long expectRevision) {
        return expectRevision == null ? 0 : HAS_EXPECTED_REVISION;
    }

    private static int revisionSize(Long expectRevision) {
        return expectRevision == null ? 0 : Long.BYTES;
    }

    private static void putRevision(ByteBuffer out, Long expectRevision) {
        if (expectRevision != null) {
            out.putLong(expectRevision);
        }
    }

    private static Long revisionOf(ByteBuffer in, int flags) {
        return (flags & HAS_EXPECTED_REVISION) != 0 ? in.getLong() : null;
    }

    private static byte[] utf8(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private static int stringSize(byte[] utf8) {
        return Integer.BYTES + (utf8 == null ? 0 : utf8.length);
    }

    private static void putString(ByteBuffer out, byte[] utf8) {
        if (utf8 == null) {
            out.putInt(-1);
        } else {
            out.putInt(utf8.length).put(utf8);
        }
    }

    /**
     * Strict: bytes that are not UTF-8 are damage, not text to guess at. ASCII, what keys nearly
     * always are, is taken as it is; anything else goes through a decoder that reports errors.
     */
    private static String getString(ByteBuffer in) {
        int length = in.getInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("a string of " + length + " bytes where " + in.remaining() + " are left");
        }
        byte[] array = in.array();
        int start = in.arrayOffset() + in.position();
        in.position(in.position() + length);
        for (int i = start; i < start + length; i++) {
            if (array[i] < 0) {
                return strictUtf8(array, start, length);
            }
        }
        return new String(array, start, length, StandardCharsets.US_ASCII);
    }

    private static String strictUtf8(byte[] array, int start, int length) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(array, start, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a string that is not UTF-8", e);
        }
    }

    private static <T> T complete(ByteBuffer in, T decoded) {
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the end of a binary " + decoded.getClass().getSimpleName());
        }
        return decoded;
    }
}
