package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.server.ClusterAccess;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StorageMapsTest {

    /** A cluster whose local state learns of volume 7 (2 copies; the default is 1) on its fourth read. */
    private static ClusterAccess clusterLearningOfVolume7(AtomicInteger reads) {
        return (ClusterAccess) Proxy.newProxyInstance(ClusterAccess.class.getClassLoader(), new Class<?>[] {ClusterAccess.class},
            (proxy, method, args) -> {
                if (!method.getName().equals("query") || !(args[0] instanceof Query.StorageMap)) {
                    throw new UnsupportedOperationException(method.getName());
                }
                int read = reads.incrementAndGet();
                Map<Integer, Integer> copies = read >= 4 ? Map.of(1, 2, 7, 2) : Map.of(1, 2);
                return new QueryResult.StorageMap(1, List.of(), Map.of(), List.of(), copies, read);
            });
    }

    @Test
    void theDataPathWaitsUntilTheMapKnowsANewVolumesCopies() {
        AtomicInteger reads = new AtomicInteger();
        try (StorageMaps maps = new StorageMaps(clusterLearningOfVolume7(reads))) {
            QueryResult.StorageMap map = maps.currentKnowing(7);

            assertThat(StorageMaps.knowsVolumeOf(map, ObjectId.of(7, 0))).isTrue();
            assertThat(StorageMaps.copies(map, ObjectId.of(7, 0))).as("the volume's copies, not the default").isEqualTo(2);
            assertThat(reads.get()).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void aVolumeNoMapKnowsIsPlacedByTheDefaultAfterTheWait() {
        AtomicInteger reads = new AtomicInteger();
        try (StorageMaps maps = new StorageMaps(clusterLearningOfVolume7(reads))) {
            maps.currentKnowing(7);
            QueryResult.StorageMap map = maps.currentKnowing(9); // a deleted ancestor's objects: no entry, ever

            assertThat(StorageMaps.knowsVolumeOf(map, ObjectId.of(9, 0))).isFalse();
            assertThat(StorageMaps.copies(map, ObjectId.of(9, 0))).isEqualTo(1);
        }
    }
}
