package herd.control;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A tiny replicated map for tests. Commands are UTF-8 text: "put KEY VALUE" replies with the
 * previous value (or ""); anything else replies "error: ...". Queries: "get KEY", "size".
 */
final class KeyValueApp implements ReplicatedApplication {
    private final TreeMap<String, String> entries = new TreeMap<>();
    private long lastApplied;
    /** While set, writing a captured snapshot waits until it opens: a disk slow to take the file. */
    volatile CountDownLatch snapshotWritesHeld;

    static byte[] put(String key, String value) {
        return ("put " + key + " " + value).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] get(String key) {
        return ("get " + key).getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized byte[] apply(long index, byte[] command) {
        if (index <= lastApplied) {
            throw new IllegalStateException("index " + index + " after " + lastApplied);
        }
        lastApplied = index;
        final String[] words = text(command).split(" ", 3);
        if (words.length != 3 || !words[0].equals("put")) {
            return "error: not a put".getBytes(StandardCharsets.UTF_8);
        }
        final String previous = entries.put(words[1], words[2]);
        return (previous == null ? "" : previous).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized byte[] query(byte[] query) {
        final String[] words = text(query).split(" ", 2);
        final String answer = switch (words[0]) {
            case "get" -> entries.getOrDefault(words[1], "");
            case "size" -> Integer.toString(entries.size());
            default -> throw new IllegalArgumentException("unknown query " + text(query));
        };
        return answer.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized long lastAppliedIndex() {
        return lastApplied;
    }

    private void awaitSnapshotWritesAllowed() throws IOException {
        final CountDownLatch held = snapshotWritesHeld;
        try {
            if (held != null && !held.await(60, TimeUnit.SECONDS)) {
                throw new IOException("snapshot writes held for a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while snapshot writes were held", e);
        }
    }

    @Override
    public synchronized Snapshot captureSnapshot() {
        final long at = lastApplied;
        final Map<String, String> copy = new LinkedHashMap<>(entries);
        return out -> {
            awaitSnapshotWritesAllowed();
            final DataOutputStream data = new DataOutputStream(out);
            data.writeLong(at);
            data.writeInt(copy.size());
            for (var entry : copy.entrySet()) {
                data.writeUTF(entry.getKey());
                data.writeUTF(entry.getValue());
            }
            data.flush();
        };
    }

    @Override
    public synchronized void readSnapshot(InputStream in) throws IOException {
        final DataInputStream data = new DataInputStream(in);
        final long applied = data.readLong();
        final int size = data.readInt();
        final TreeMap<String, String> read = new TreeMap<>();
        for (int i = 0; i < size; i++) {
            read.put(data.readUTF(), data.readUTF());
        }
        entries.clear();
        entries.putAll(read);
        lastApplied = applied;
    }
}
