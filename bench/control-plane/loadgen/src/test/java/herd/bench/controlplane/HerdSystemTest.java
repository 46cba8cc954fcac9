package herd.bench.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HerdSystemTest {

    private FakeHerdApi api;
    private HerdSystem herd;

    @BeforeEach
    void start() throws Exception {
        api = new FakeHerdApi("s2");
        herd = new HerdSystem(FakeHerdApi.TOKEN, Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        herd.close();
        api.close();
    }

    @Test
    void aPutValueReadsBackByteForByte() throws Exception {
        KvClient client = herd.clientFor(api.member("s1"));
        byte[] value = Keys.randomValue(256, 7);

        client.put("00000001", value);

        assertThat(client.get("00000001")).isEqualTo(value);
    }

    @Test
    void anAsyncPutIsAcknowledged() throws Exception {
        KvClient client = herd.clientFor(api.member("s1"));

        client.putAsync("f0000001", new byte[] {1, 2, 3}).get(5, TimeUnit.SECONDS);

        assertThat(client.get("f0000001")).containsExactly(1, 2, 3);
    }

    @Test
    void aMissingKeyReadsAsNull() throws Exception {
        assertThat(herd.clientFor(api.member("s1")).get("r0000000")).isNull();
    }

    @Test
    void aRefusedWriteFailsWithHerdsAnswer() {
        api.answerEveryRequestWith(503);
        KvClient client = herd.clientFor(api.member("s1"));

        assertThatThrownBy(() -> client.put("00000001", new byte[8]))
                .isInstanceOf(HerdSystem.HerdRequestFailed.class)
                .hasMessageContaining("HTTP 503").hasMessageContaining("no_leader");
        assertThatThrownBy(() -> client.putAsync("00000001", new byte[8]).get(5, TimeUnit.SECONDS))
                .hasMessageContaining("HTTP 503");
    }

    @Test
    void aWrongTokenIsRejected() {
        try (HerdSystem wrongToken = new HerdSystem("not-the-token", Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> wrongToken.clientFor(api.member("s1")).put("00000001", new byte[8]))
                    .hasMessageContaining("HTTP 401");
        }
    }

    @Test
    void theLeaderIsTheServerInStateLeader() throws Exception {
        assertThat(herd.leaderName(List.of(api.member("s1")))).isEqualTo("s2");
    }

    @Test
    void keysThatWouldNeedPercentEncodingAreRefused() {
        assertThatThrownBy(() -> herd.clientFor(api.member("s1")).put("a/b", new byte[1]))
                .hasMessageContaining("letters and digits");
    }
}
