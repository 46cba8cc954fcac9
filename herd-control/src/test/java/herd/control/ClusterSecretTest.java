package herd.control;

import static herd.control.KeyValueApp.get;
import static herd.control.KeyValueApp.put;
import static herd.control.KeyValueApp.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterSecretTest {
    @TempDir Path dir;

    @Test
    void serversTalkOverMutualTlsAndRejectClientsWithoutTheSecret() throws Exception {
        final ClusterSecret secret = ClusterSecret.generate();
        final ClusterSecret other = ClusterSecret.generate();
        assertThat(ClusterSecret.fromBytes(secret.toBytes()).toBytes()).isEqualTo(secret.toBytes());

        try (TestCluster cluster = new TestCluster(dir, b -> b.clusterSecret(secret)).bootstrap("a", "b", "c")) {
            cluster.awaitLeader();
            cluster.node("a").submit(put("k", "v")).get(20, TimeUnit.SECONDS);

            try (ControlPlaneClient holder = ControlPlaneClient.connect(cluster.groupId, cluster.addresses, secret)) {
                assertThat(text(holder.readLinearizable(get("k")).get(15, TimeUnit.SECONDS))).isEqualTo("v");
            }
            for (ClusterSecret wrong : new ClusterSecret[] {other, null}) {
                try (ControlPlaneClient stranger = ControlPlaneClient.connect(cluster.groupId, cluster.addresses, wrong,
                        Duration.ofSeconds(1), Duration.ofSeconds(2))) {
                    assertThatThrownBy(() -> stranger.submit(put("k", "stolen")).get(10, TimeUnit.SECONDS))
                            .isInstanceOf(ExecutionException.class)
                            .hasCauseInstanceOf(ControlPlaneUnavailableException.class);
                }
            }
            assertThat(text(cluster.node("b").readLinearizable(get("k")).get(15, TimeUnit.SECONDS))).isEqualTo("v");
        }
    }

    @Test
    void rejectsBytesThatAreNotASecret() {
        assertThatThrownBy(() -> ClusterSecret.fromBytes(new byte[] {1, 2, 3}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a valid key store");
    }
}
