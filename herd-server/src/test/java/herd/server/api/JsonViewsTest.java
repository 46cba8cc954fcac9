package herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonViewsTest {
    @Test
    void valuesAreShownAsTextOnlyWhenTheyAreValidUtf8() {
        assertThat(JsonViews.utf8OrNull("héllo €".getBytes(StandardCharsets.UTF_8))).isEqualTo("héllo €");
        assertThat(JsonViews.utf8OrNull(new byte[0])).isEmpty();
        assertThat(JsonViews.utf8OrNull(new byte[] {'a', (byte) 0xC3})).as("cut in the middle of a character").isNull();
        assertThat(JsonViews.utf8OrNull(new byte[] {(byte) 0xFF, 'a'})).isNull();
    }
}
