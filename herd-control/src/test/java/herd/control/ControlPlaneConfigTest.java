package herd.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class ControlPlaneConfigTest {

    private static ControlPlaneConfig.Builder valid() {
        return ControlPlaneConfig.builder().nodeName("s1").raftAddress("127.0.0.1:7100")
                .dataDirectory(Path.of("data")).groupId(UUID.randomUUID()).initialPeer("s1", "127.0.0.1:7100");
    }

    @Test
    void defaultsFitABusyTwoCoreMachine() {
        final ControlPlaneConfig config = valid().build();
        assertThat(config.electionTimeoutMin()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.electionTimeoutMax()).isEqualTo(Duration.ofMillis(750));
        assertThat(config.leaderAckBound()).isEqualTo(Duration.ofMillis(375));
        assertThat(config.bootstraps()).isTrue();
    }

    @Test
    void aServerNotAmongItsInitialPeersJoins() {
        final ControlPlaneConfig config = ControlPlaneConfig.builder().nodeName("s4").raftAddress("127.0.0.1:7104")
                .dataDirectory(Path.of("d")).groupId(UUID.randomUUID()).initialPeer("s1", "127.0.0.1:7100").build();
        assertThat(config.bootstraps()).isFalse();
    }

    @Test
    void rejectsBadSettingsWithAClearReason() {
        expect(b -> b.nodeName("bad name"), "node name 'bad name' is invalid");
        expect(b -> b.raftAddress("localhost"), "is not host:port");
        expect(b -> b.raftAddress("127.0.0.1:99999"), "outside 1-65535");
        expect(b -> b.groupId(null), "group id is missing");
        expect(b -> b.dataDirectory(null), "data directory is missing");
        expect(b -> b.initialPeer("s1", "127.0.0.1:7200"), "make them equal");
        expect(b -> b.electionTimeoutMax(Duration.ofMillis(500)), "must be greater than min");
        expect(b -> b.leaderAckBound(Duration.ofMillis(990)), "must be below election timeout min");
        expect(b -> b.snapshotThresholdEntries(0), "snapshot threshold");
        expect(b -> b.logSegmentSizeBytes(1000), "at least 64 KiB");
    }

    @Test
    void rejectsAnEmptyPeerList() {
        assertThatThrownBy(() -> ControlPlaneConfig.builder().nodeName("s1").raftAddress("127.0.0.1:7100")
                .dataDirectory(Path.of("d")).groupId(UUID.randomUUID()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initial peers are empty");
    }

    private static void expect(UnaryOperator<ControlPlaneConfig.Builder> change, String message) {
        assertThatThrownBy(() -> change.apply(valid()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }
}
