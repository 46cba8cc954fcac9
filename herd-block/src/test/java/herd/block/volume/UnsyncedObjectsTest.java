package herd.block.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.block.Done;
import herd.blockcore.ObjectId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UnsyncedObjectsTest {
    private static final ObjectId X = ObjectId.of(1, 0);
    private static final ObjectId Y = ObjectId.of(1, 1);

    /** Threads of their own: the common pool may have one thread on a small machine, and a held sync takes it. */
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final UnsyncedObjects unsynced = new UnsyncedObjects();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }
    private final List<List<ObjectId>> synced = new ArrayList<>();

    /** A sync action that records what it was given and, for a non-empty list, waits until released. */
    private final class HeldSync implements UnsyncedObjects.SyncAction {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final ObjectResult<Done> outcome;

        HeldSync(ObjectResult<Done> outcome) {
            this.outcome = outcome;
        }

        @Override
        public ObjectResult<Done> sync(List<ObjectId> objects) {
            synchronized (synced) {
                synced.add(List.copyOf(objects));
            }
            if (!objects.isEmpty()) {
                started.countDown();
                await(release);
            }
            return outcome;
        }
    }

    @Test
    void aSyncThatFindsNothingMarkedWaitsForTheSyncUnderWayThatTookTheMarks() throws Exception {
        unsynced.mark(X);
        HeldSync first = new HeldSync(ObjectResult.done());
        CompletableFuture<ObjectResult<Done>> firstDone = CompletableFuture.supplyAsync(() -> unsynced.syncAll(first), threads);
        assertThat(first.started.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<ObjectResult<Done>> secondDone =
            CompletableFuture.supplyAsync(() -> unsynced.syncAll(objects -> ObjectResult.done()), threads);
        CompletableFuture<ObjectResult<Done>> oneDone =
            CompletableFuture.supplyAsync(() -> unsynced.sync(X, objects -> ObjectResult.done()), threads);
        Thread.sleep(200);
        assertThat(secondDone).as("answered while X was still being synced").isNotDone();
        assertThat(oneDone).as("answered while X was still being synced").isNotDone();

        first.release.countDown();
        assertThat(firstDone.get(10, TimeUnit.SECONDS)).isEqualTo(ObjectResult.done());
        assertThat(secondDone.get(10, TimeUnit.SECONDS)).isEqualTo(ObjectResult.done());
        assertThat(oneDone.get(10, TimeUnit.SECONDS)).isEqualTo(ObjectResult.done());
    }

    @Test
    void aSyncWaitingForOneThatFailsFailsAndTheMarksStayForTheNext() throws Exception {
        unsynced.mark(X);
        ObjectResult<Done> failure = ObjectResult.failed(new ObjectError.IoFailure(X, "disk error"));
        HeldSync first = new HeldSync(failure);
        CompletableFuture<ObjectResult<Done>> firstDone = CompletableFuture.supplyAsync(() -> unsynced.syncAll(first), threads);
        assertThat(first.started.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<ObjectResult<Done>> secondDone =
            CompletableFuture.supplyAsync(() -> unsynced.syncAll(objects -> ObjectResult.done()), threads);
        Thread.sleep(200); // the second is waiting for the first

        first.release.countDown();
        assertThat(firstDone.get(10, TimeUnit.SECONDS)).isEqualTo(failure);
        assertThat(secondDone.get(10, TimeUnit.SECONDS)).isEqualTo(failure);
        assertThat(unsynced.markedNow()).containsExactly(X);
    }

    @Test
    void aChangeMarkedDuringASyncIsTakenByTheNextOne() throws Exception {
        unsynced.mark(X);
        HeldSync first = new HeldSync(ObjectResult.done());
        CompletableFuture<ObjectResult<Done>> firstDone = CompletableFuture.supplyAsync(() -> unsynced.syncAll(first), threads);
        assertThat(first.started.await(10, TimeUnit.SECONDS)).isTrue();
        unsynced.mark(X);
        unsynced.mark(Y);
        assertThat(unsynced.markedNow()).containsExactlyInAnyOrder(X, Y);

        first.release.countDown();
        firstDone.get(10, TimeUnit.SECONDS);
        assertThat(unsynced.syncAll(objects -> {
            synced.add(List.copyOf(objects));
            return ObjectResult.done();
        })).isEqualTo(ObjectResult.done());
        assertThat(synced).hasSize(2);
        assertThat(synced.get(0)).containsExactly(X);
        assertThat(synced.get(1)).containsExactlyInAnyOrder(X, Y);
        assertThat(unsynced.markedNow()).isEmpty();
    }

    @Test
    void aSyncOfOneObjectTakesOnlyItsMarkAndAnUnmarkedObjectNeedsNothing() {
        unsynced.mark(X);
        unsynced.mark(Y);
        assertThat(unsynced.sync(X, objects -> {
            synced.add(List.copyOf(objects));
            return ObjectResult.done();
        })).isEqualTo(ObjectResult.done());
        assertThat(unsynced.sync(X, objects -> {
            synced.add(List.copyOf(objects));
            return ObjectResult.done();
        })).isEqualTo(ObjectResult.done());
        assertThat(synced).containsExactly(List.of(X), List.of());
        assertThat(unsynced.markedNow()).containsExactly(Y);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).as("released").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
