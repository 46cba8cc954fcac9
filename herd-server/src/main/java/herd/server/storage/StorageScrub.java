package herd.server.storage;

import herd.block.volume.ObjectError;
import herd.blockcore.ObjectId;
import herd.core.command.QueryResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's scrub: what {@code herd volume check} does for one volume on demand, done in the
 * background for every copy the node holds. Each pass reads every copy the current epoch places
 * here, whole, checking every block against its checksum ({@link ObjectService#verifiedBytes}), at
 * most {@code bytesPerSecond}; when one fails, every copy of that object is checked and the damaged
 * ones are replaced with one that passed ({@link ReplicatedObjectIo#check}). So damage to a copy
 * that reads never reach (they stop at the first copy that reads well) is found while the other
 * copies are still there. Copies the epoch places elsewhere wait to be dropped and are skipped.
 *
 * <p>A pass starts {@code interval} after the last one ended, across restarts too: the end of the
 * last finished pass is kept in a small file beside the store ({@link #LAST_PASS_FILE}). A node that
 * has never finished a pass starts one within an hour of its start.
 */
final class StorageScrub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StorageScrub.class);
    static final Duration FIRST_PASS_AFTER_AT_MOST = Duration.ofHours(1);
    /** Where a node keeps the end of its last finished pass (milliseconds since the epoch, as text). */
    static final String LAST_PASS_FILE = "scrub-last-pass";

    /**
     * The current or last pass ({@code objects...}, {@code bytesRead}) and the totals since the node
     * started ({@code passes}, {@code damagedFound}, {@code repaired}), for {@code herd storage status}.
     */
    record Progress(String state, long passes, long objectsTotal, long objectsDone, long bytesRead, long damagedFound,
                    long repaired, long startedMillis, long finishedMillis) {}

    private final String self;
    private final ObjectService service;
    private final StorageMaps maps;
    private final ReplicatedObjectIo copies;
    private final Duration interval;
    private final long bytesPerSecond;
    private final Path lastPassFile;
    private final Thread worker;
    private volatile boolean closed;
    private volatile Progress progress;

    /**
     * @param interval time between passes; {@link Duration#ZERO}: no scrub
     * @param lastPassFile where the end of the last finished pass is kept
     */
    StorageScrub(String self, ObjectService service, StorageMaps maps, ReplicatedObjectIo copies, Duration interval,
                 long bytesPerSecond, Path lastPassFile) {
        this.self = self;
        this.service = service;
        this.maps = maps;
        this.copies = copies;
        this.interval = interval;
        this.bytesPerSecond = bytesPerSecond;
        this.lastPassFile = lastPassFile;
        this.progress = new Progress(interval.isZero() ? "off" : "waiting", 0, 0, 0, 0, 0, 0, 0, 0);
        this.worker = Thread.ofPlatform().daemon().name("herd-storage-scrub").unstarted(this::run);
    }

    void start() {
        if (!interval.isZero()) {
            worker.start();
        }
    }

    Progress progress() {
        return progress;
    }

    /**
     * How long a starting node waits for its first pass: until an interval after the last pass ended
     * (at once when that is past, at most an interval when the record lies in the future); without a
     * record, an interval but at most {@link #FIRST_PASS_AFTER_AT_MOST}. Pure.
     */
    static long firstPassDelayMillis(OptionalLong lastPassEndMillis, long nowMillis, Duration interval) {
        if (lastPassEndMillis.isEmpty()) {
            return Math.min(interval.toMillis(), FIRST_PASS_AFTER_AT_MOST.toMillis());
        }
        return Math.clamp(lastPassEndMillis.getAsLong() + interval.toMillis() - nowMillis, 0, interval.toMillis());
    }

    /** The end of the last finished pass as recorded, if one is; a record that cannot be read counts as none. */
    static OptionalLong readLastPassEnd(Path file) {
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(file).strip()));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            log.warn("cannot read {} ({}); the next scrub pass starts within the hour", file, e.toString());
            return OptionalLong.empty();
        }
    }

    /** Records the end of a finished pass: written beside the file, then moved over it, so it is whole or old. */
    static void recordLastPassEnd(Path file, long endMillis) throws IOException {
        Path next = file.resolveSibling(file.getFileName() + ".new");
        Files.writeString(next, Long.toString(endMillis));
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void run() {
        StorageMaps.sleepQuietly(firstPassDelayMillis(readLastPassEnd(lastPassFile), System.currentTimeMillis(), interval));
        while (!closed) {
            try {
                pass();
            } catch (RuntimeException e) {
                log.warn("scrub pass failed, trying again after the interval: {}", e.toString());
            }
            StorageMaps.sleepQuietly(interval.toMillis());
        }
    }

    private void pass() {
        List<ObjectId> held = service.list();
        Progress last = progress;
        long started = System.currentTimeMillis();
        long bytesRead = 0;
        long damaged = last.damagedFound();
        long repaired = last.repaired();
        progress = new Progress("scrubbing", last.passes(), held.size(), 0, 0, damaged, repaired, started, 0);
        for (int index = 0; index < held.size(); index++) {
            if (closed) {
                return; // the node stops: this pass does not count
            }
            ObjectId id = held.get(index);
            QueryResult.StorageMap map = maps.current();
            long epoch = map.current().epoch();
            if (maps.placement(map, map.current(), id).contains(self)) {
                switch (service.verifiedBytes(epoch, id)) {
                    case CopyReply.Ok<Integer> ok -> bytesRead += ok.value();
                    case CopyReply.Failed<Integer> failed when failed.error() instanceof ObjectError.Corrupt -> {
                        damaged++;
                        repaired += mend(id);
                    }
                    case CopyReply.Failed<Integer> failed when failed.error() instanceof ObjectError.NotFound -> {
                        // deleted since the list was taken
                    }
                    case CopyReply.Failed<Integer> failed ->
                        log.warn("scrub: this node's copy of object {} could not be read: {}", id, failed.error().describe());
                    case CopyReply.Retry<Integer> retry -> {
                        // the epoch moved on; recovery deals with this copy, the next pass sees it again
                    }
                }
            }
            progress = new Progress("scrubbing", last.passes(), held.size(), index + 1, bytesRead, damaged, repaired,
                started, 0);
            RateLimit.pause(bytesRead, started, bytesPerSecond);
        }
        long finished = System.currentTimeMillis();
        progress = new Progress("waiting", last.passes() + 1, held.size(), held.size(), bytesRead, damaged, repaired,
            started, finished);
        log.info("scrub pass done in {} s: {} copies, {} bytes read; {} damaged found, {} repaired since start",
            (finished - started) / 1000, held.size(), bytesRead, damaged, repaired);
        try {
            recordLastPassEnd(lastPassFile, finished);
        } catch (IOException e) {
            log.warn("cannot record the scrub pass's end in {} ({}); after a restart the next pass starts within the hour",
                lastPassFile, e.toString());
        }
    }

    /** Checks every copy of an object whose copy here failed, replacing damaged ones; 1 when this node's was. */
    private int mend(ObjectId id) {
        ReplicatedObjectIo.CopyCheck found = copies.check(id);
        if (found.repaired().contains(self)) {
            return 1;
        }
        log.error("scrub: this node's copy of object {} fails its checksum and was not replaced: {}", id,
            found.problems().getOrDefault(self, "its copy read well when checked again"));
        return 0;
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
    }
}
