package herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class JsonViewsTest {
    @Test
    void valuesAreShownAsTextOnlyWhenTheyAreValidUtf8() {
        assertThat(JsonViews.utf8OrNull("héllo €".getBytes(StandardCharsets.UTF_8))).isEqualTo("héllo €");
        assertThat(JsonViews.utf8OrNull(new byte[0])).isEmpty();
        assertThat(JsonViews.utf8OrNull(new byte[] {'a', (byte) 0xC3})).as("cut in the middle of a character").isNull();
        assertThat(JsonViews.utf8OrNull(new byte[] {(byte) 0xFF, 'a'})).isNull();
        assertThat(JsonViews.utf8OrNull(new byte[] {(byte) 0xC0, (byte) 0x80})).as("overlong NUL").isNull();
        assertThat(JsonViews.utf8OrNull(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).as("a surrogate").isNull();
        assertThat(JsonViews.utf8OrNull(new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80})).as("past U+10FFFF").isNull();
    }

    /** Text exactly when the JDK's strict decoder takes the bytes, and then the same text. */
    @Property(tries = 2000)
    void agreesWithTheStrictDecoder(@ForAll("utf8ish") byte[] bytes) {
        assertThat(JsonViews.utf8OrNull(bytes)).isEqualTo(strictlyDecoded(bytes));
    }

    /** Mostly bytes of real text, with a damaged byte here and there, so both answers come up often. */
    @Provide
    Arbitrary<byte[]> utf8ish() {
        Arbitrary<byte[]> text = Arbitraries.strings().all().ofMaxLength(20).map(s -> s.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> damaged = text.flatMap(bytes -> Arbitraries.bytes().flatMap(b -> Arbitraries.integers()
            .between(0, Math.max(0, bytes.length - 1)).map(at -> {
                byte[] copy = bytes.clone();
                if (copy.length > 0) {
                    copy[at] = b;
                }
                return copy;
            })));
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(8);
        return Arbitraries.oneOf(text, damaged, random);
    }

    private static String strictlyDecoded(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
