package herd.core.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NameRulesTest {
    @Test
    void theRaftPortIsTheApiPortPlusOne() {
        assertThat(NameRules.defaultRaftAddress("10.0.0.1:7100")).isEqualTo("10.0.0.1:7101");
        assertThat(NameRules.defaultRaftAddress("node1.example:7100")).isEqualTo("node1.example:7101");
        assertThat(NameRules.defaultRaftAddress("[::1]:7100")).isEqualTo("[::1]:7101");
    }

    @Test
    void anInvalidAddressIsLeftForTheChecksToReport() {
        assertThat(NameRules.defaultRaftAddress("no-port")).isEqualTo("no-port");
        assertThat(NameRules.defaultRaftAddress("host:65535")).isEqualTo("host:65535");
        assertThat(NameRules.checkAddress("API", "no-port")).get().extracting(r -> r.message()).asString().contains("HOST:PORT");
    }

    @Test
    void namesAreDnsLabels() {
        assertThat(NameRules.checkName("node", "web-2")).isEmpty();
        assertThat(NameRules.checkName("node", "Web")).isPresent();
        assertThat(NameRules.checkName("node", "-a")).isPresent();
        assertThat(NameRules.checkName("node", "a".repeat(64))).isPresent();
    }
}
