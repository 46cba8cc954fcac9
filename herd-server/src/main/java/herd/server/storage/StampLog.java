package herd.server.storage;

import herd.block.store.InFlightOperations;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each local copy's stamp: the last storage epoch in which this node knew the copy to be current
 * (it was placed here and brought up to date, or written), and its basis: the stamp of the newest
 * copy it was brought up to date from when it got that stamp. Within an epoch, nodes compare bases:
 * a node that checked its copy earlier in the epoch has no newer data than one that has yet to
 * check (every write of the epoch reaches every copy, each after its check). Recovery trusts the copy with the highest
 * stamp among the nodes that may hold an object, so a copy that missed writes while its node was away
 * or outside the object's placement never wins over a newer one. A stamp also records that an object
 * did not exist at that epoch (the stamp of an absent copy), so an old copy elsewhere is not brought
 * back.
 *
 * <p>Kept in memory and in an append-only file of 17-byte records (object id, epoch), synced
 * on every append: a stamp changes at most once per object and epoch, and a stamp lost in a crash
 * would let a stale copy win. The file is rewritten compactly when it is opened.
 */
final class StampLog implements AutoCloseable {
    /** A copy's stamp and the stamp of the content it was made current from. */
    record Stamp(long epoch, long basis) {
        /** What the copy's content is worth against other copies during {@code currentEpoch}. */
        long effective(long currentEpoch) {
            return epoch >= currentEpoch ? basis : epoch;
        }
    }

    private static final int RECORD_BYTES = Long.BYTES * 3;

    private final Path file;
    /** Where appends are counted as operations on the disk, beside the object store's (it hangs with the same disk). */
    private final InFlightOperations operations;
    private final Map<ObjectId, Stamp> stamps = new ConcurrentHashMap<>();
    private FileChannel channel;

    private StampLog(Path file, InFlightOperations operations) {
        this.file = file;
        this.operations = operations;
    }

    /** Opens the log in {@code file}, counting its appends in {@code operations} (its store's, on the same disk). */
    static StampLog open(Path file, InFlightOperations operations) throws IOException {
        StampLog log = new StampLog(file, operations);
        if (Files.exists(file)) {
            ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file));
            while (all.remaining() >= RECORD_BYTES) { // a torn last record is ignored
                ObjectId objectId = new ObjectId(all.getLong());
                Stamp stamp = new Stamp(all.getLong(), all.getLong());
                log.stamps.merge(objectId, stamp, (a, b) -> b.epoch() >= a.epoch() ? b : a);
            }
        }
        log.compact();
        return log;
    }

    private void compact() throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".new");
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (Map.Entry<ObjectId, Stamp> entry : stamps.entrySet()) {
                out.write(record(entry.getKey(), entry.getValue()));
            }
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** The epoch of the copy's stamp, or empty when it never had one. */
    OptionalLong epoch(ObjectId objectId) {
        Stamp stamp = stamps.get(objectId);
        return stamp == null ? OptionalLong.empty() : OptionalLong.of(stamp.epoch());
    }

    /** The copy's stamp, or empty when it never had one. */
    java.util.Optional<Stamp> get(ObjectId objectId) {
        return java.util.Optional.ofNullable(stamps.get(objectId));
    }

    /** Records a stamp durably. */
    void set(ObjectId objectId, long epoch, long basis) throws IOException {
        int ticket = operations.begin(); // before the monitor: waiting for an append that hangs is waiting for the disk
        try {
            append(objectId, new Stamp(epoch, basis));
        } finally {
            operations.end(ticket);
        }
    }

    private synchronized void append(ObjectId objectId, Stamp stamp) throws IOException {
        channel.write(record(objectId, stamp));
        channel.force(false);
        stamps.put(objectId, stamp);
    }

    /** Forgets a copy that was removed from this node (its absence needs no stamp: it is not placed here). */
    void forget(ObjectId objectId) {
        stamps.remove(objectId);
    }

    private static ByteBuffer record(ObjectId objectId, Stamp stamp) {
        ByteBuffer buffer = ByteBuffer.allocate(RECORD_BYTES);
        buffer.putLong(objectId.value()).putLong(stamp.epoch()).putLong(stamp.basis()).flip();
        return buffer;
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}
