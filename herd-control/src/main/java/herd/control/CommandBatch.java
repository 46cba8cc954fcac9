package herd.control;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Several commands in one log entry (group commit), or several queries in one linearizable read,
 * and their replies. A batch starts with a marker
 * no application command starts with (a zero byte, then "HRDB"), then the count, then each command
 * as a 4-byte length and its bytes; the reply has the same shape without the marker. An entry that
 * is not a batch is one command, as written before batching existed.
 *
 * <p>The commands of an entry are applied one after another at consecutive {@link LogPosition}s.
 */
final class CommandBatch {
    static final int COMMANDS_MAX = LogPosition.PER_ENTRY_MAX;
    /** Most bytes of commands in one entry; a single larger command travels alone. */
    static final int BYTES_MAX = 2 * 1024 * 1024;
    private static final byte[] MARKER = {0, 'H', 'R', 'D', 'B'};

    private CommandBatch() { }

    /** A query's part of a batch reply: its answer. */
    static byte[] answered(byte[] answer) {
        final byte[] part = new byte[answer.length + 1];
        System.arraycopy(answer, 0, part, 1, answer.length);
        return part;
    }

    /** A query's part of a batch reply: why the application could not answer it. */
    static byte[] failed(String reason) {
        final byte[] text = String.valueOf(reason).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        final byte[] part = new byte[text.length + 1];
        part[0] = 1;
        System.arraycopy(text, 0, part, 1, text.length);
        return part;
    }

    /** The answer in a query's part of a batch reply; throws what the application said when it failed. */
    static byte[] unpackAnswer(byte[] part) {
        if (part.length == 0 || part[0] > 1) {
            throw new IllegalStateException("a query's part of a batch reply is damaged");
        }
        final byte[] rest = java.util.Arrays.copyOfRange(part, 1, part.length);
        if (part[0] == 1) {
            throw new ControlPlaneException("linearizable read failed in the application: "
                    + new String(rest, java.nio.charset.StandardCharsets.UTF_8), null);
        }
        return rest;
    }

    static boolean isBatch(byte[] entry) {
        if (entry.length < MARKER.length) {
            return false;
        }
        for (int i = 0; i < MARKER.length; i++) {
            if (entry[i] != MARKER[i]) {
                return false;
            }
        }
        return true;
    }

    static byte[] encode(List<byte[]> commands) {
        if (commands.isEmpty() || commands.size() > COMMANDS_MAX) {
            throw new IllegalArgumentException("a batch holds 1.." + COMMANDS_MAX + " commands, not " + commands.size());
        }
        final ByteBuffer out = ByteBuffer.allocate(MARKER.length + framedSize(commands));
        out.put(MARKER);
        putFramed(out, commands);
        return out.array();
    }

    static List<byte[]> decode(byte[] entry) {
        if (!isBatch(entry)) {
            throw new IllegalArgumentException("not a batch of commands");
        }
        return framed(ByteBuffer.wrap(entry, MARKER.length, entry.length - MARKER.length));
    }

    static byte[] encodeReplies(List<byte[]> replies) {
        final ByteBuffer out = ByteBuffer.allocate(framedSize(replies));
        putFramed(out, replies);
        return out.array();
    }

    static List<byte[]> decodeReplies(byte[] reply, int expected) {
        final List<byte[]> replies = framed(ByteBuffer.wrap(reply));
        if (replies.size() != expected) {
            throw new IllegalStateException("a batch of " + expected + " commands got " + replies.size() + " replies");
        }
        return replies;
    }

    private static int framedSize(List<byte[]> parts) {
        int size = Integer.BYTES;
        for (byte[] part : parts) {
            size += Integer.BYTES + part.length;
        }
        return size;
    }

    private static void putFramed(ByteBuffer out, List<byte[]> parts) {
        out.putInt(parts.size());
        for (byte[] part : parts) {
            out.putInt(part.length).put(part);
        }
    }

    private static List<byte[]> framed(ByteBuffer in) {
        try {
            final int count = in.getInt();
            if (count < 0 || count > COMMANDS_MAX) {
                throw new IllegalArgumentException("a batch says it holds " + count + " parts");
            }
            final List<byte[]> parts = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                final byte[] part = new byte[in.getInt()];
                in.get(part);
                parts.add(part);
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " bytes after the last part of a batch");
            }
            return parts;
        } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException("a batch ends in the middle of a part", e);
        }
    }
}
