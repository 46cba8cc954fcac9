package herd.block.volume;

import herd.block.Done;
import herd.blockcore.ObjectId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The objects changed since they were last made durable, and the syncs under way, for a layer
 * that syncs objects on request (a device's FLUSH, a FUA write, a store's sync).
 *
 * <p>A sync takes the marks it covers, so that a change made meanwhile marks its object again for
 * the next one. A second sync that begins while the first is still forcing those objects finds
 * their marks gone; answering at once would let a FLUSH on another connection, or a second FUA write
 * to the same object, be acknowledged before the data it covers is durable. So a sync also waits
 * for every sync under way that took a mark it covers, and fails if that one failed.
 *
 * <p>Mark an object after its change is made and before the change is acknowledged: a sync that
 * takes the mark then starts after the change, so it covers it.
 */
public final class UnsyncedObjects {
    /** What makes the objects durable; it may be given none (a layer below may still have work). */
    @FunctionalInterface
    public interface SyncAction {
        ObjectResult<Done> sync(List<ObjectId> objects);
    }

    private final Set<ObjectId> marked = ConcurrentHashMap.newKeySet();
    /** The sync under way for each object whose mark it took; guarded by its own monitor. */
    private final Map<ObjectId, CompletableFuture<ObjectResult<Done>>> syncing = new HashMap<>();

    /**
     * Notes that the object changed since its last sync. Looks before adding: adding a member that is
     * there already still takes its hash bin's lock unless it heads the bin, and the threads writing to
     * one object would queue for that lock.
     */
    public void mark(ObjectId objectId) {
        if (!marked.contains(objectId)) {
            marked.add(objectId);
        }
    }

    /** The objects marked now, for work that visits them without syncing (such as writing trailers back). */
    public List<ObjectId> markedNow() {
        return List.copyOf(marked);
    }

    /** Makes every object marked before this call durable: those still marked, and those syncs under way took. */
    public ObjectResult<Done> syncAll(SyncAction action) {
        List<ObjectId> taken = new ArrayList<>();
        Set<CompletableFuture<ObjectResult<Done>>> earlier = new LinkedHashSet<>();
        CompletableFuture<ObjectResult<Done>> own = new CompletableFuture<>();
        synchronized (syncing) {
            earlier.addAll(syncing.values());
            for (ObjectId objectId : marked) {
                take(objectId, taken, own);
            }
        }
        return run(action, taken, earlier, own);
    }

    /** Makes one object durable if it was marked before this call, waiting for a sync of it under way. */
    public ObjectResult<Done> sync(ObjectId objectId, SyncAction action) {
        List<ObjectId> taken = new ArrayList<>(1);
        Set<CompletableFuture<ObjectResult<Done>>> earlier = new LinkedHashSet<>(1);
        CompletableFuture<ObjectResult<Done>> own = new CompletableFuture<>();
        synchronized (syncing) {
            CompletableFuture<ObjectResult<Done>> underWay = syncing.get(objectId);
            if (underWay != null) {
                earlier.add(underWay);
            }
            take(objectId, taken, own);
        }
        return run(action, taken, earlier, own);
    }

    private void take(ObjectId objectId, List<ObjectId> taken, CompletableFuture<ObjectResult<Done>> own) {
        if (marked.remove(objectId)) {
            taken.add(objectId);
            syncing.put(objectId, own);
        }
    }

    /**
     * Syncs what was taken, waits for the earlier syncs, then lets later ones go on: a sync's
     * outcome is known only once the syncs before it finished, so waiting for the latest is enough.
     * A sync's future always completes normally (for one that threw, with a failure), and waiting
     * for it ignores interrupts: the caller must not answer before the data is durable.
     */
    private ObjectResult<Done> run(SyncAction action, List<ObjectId> taken,
            Set<CompletableFuture<ObjectResult<Done>>> earlier, CompletableFuture<ObjectResult<Done>> own) {
        ObjectResult<Done> result = null;
        try {
            result = action.sync(taken);
            if (result instanceof ObjectResult.Failed<Done>) {
                marked.addAll(taken); // the next sync tries them again
            }
            for (CompletableFuture<ObjectResult<Done>> sync : earlier) {
                ObjectResult<Done> theirs = sync.join();
                if (!(result instanceof ObjectResult.Failed<Done>) && theirs instanceof ObjectResult.Failed<Done>) {
                    result = theirs;
                }
            }
            return result;
        } catch (RuntimeException | Error e) {
            marked.addAll(taken);
            if (!taken.isEmpty()) { // only a sync that took marks is waited for
                result = ObjectResult.failed(new ObjectError.IoFailure(taken.get(0), "the sync failed: " + e));
            }
            throw e;
        } finally {
            synchronized (syncing) {
                taken.forEach(objectId -> syncing.remove(objectId, own));
            }
            own.complete(result);
        }
    }
}
