package herd.core.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.kv.KeyValue;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.WithNull;
import org.junit.jupiter.api.Test;

class KvBinaryTest {

    @Property(tries = 200)
    void putsComeBackAsTheyWent(@ForAll String key, @ForAll @Size(max = 600) byte[] value,
            @ForAll @WithNull Long expectRevision) {
        Command.KvPut put = new Command.KvPut(key, value, expectRevision);

        Command decoded = Codec.decodeCommand(Codec.encode(put));

        assertThat(decoded).isInstanceOfSatisfying(Command.KvPut.class, back -> {
            assertThat(back.key()).isEqualTo(new String(key.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
            assertThat(back.value()).isEqualTo(value);
            assertThat(back.expectRevision()).isEqualTo(expectRevision);
        });
    }

    @Property(tries = 100)
    void deletesAndOutcomesComeBackAsTheyWent(@ForAll("keys") String key, @ForAll @WithNull Long expectRevision,
            @ForAll long revision, @ForAll long createRevision, @ForAll long version, @ForAll int deleted) {
        assertThat(Codec.decodeCommand(Codec.encode(new Command.KvDelete(key, expectRevision))))
            .isEqualTo(new Command.KvDelete(key, expectRevision));
        assertThat(Codec.decodeOutcome(Codec.encode(new Outcome.KvWritten(revision, key, createRevision, version))))
            .isEqualTo(new Outcome.KvWritten(revision, key, createRevision, version));
        assertThat(Codec.decodeOutcome(Codec.encode(new Outcome.KvDeleted(revision, deleted))))
            .isEqualTo(new Outcome.KvDeleted(revision, deleted));
    }

    @Property(tries = 100)
    void readsOfOneKeyAndTheirAnswersComeBackAsTheyWent(@ForAll("keys") String key, @ForAll @Size(max = 600) byte[] value,
            @ForAll long revision, @ForAll long createRevision, @ForAll long modRevision, @ForAll long version) {
        QueryResult.KvValue found = new QueryResult.KvValue(revision, new KeyValue(key, value, createRevision, modRevision, version));
        QueryResult.KvValue absent = new QueryResult.KvValue(revision, null);

        assertThat(Codec.decodeQuery(Codec.encode(new Query.KvGet(key)))).isEqualTo(new Query.KvGet(key));
        assertThat(Codec.decodeQueryResult(Codec.encode(found))).isEqualTo(found);
        assertThat(Codec.decodeQueryResult(Codec.encode(absent))).isEqualTo(absent);
    }

    @Provide
    Arbitrary<String> keys() {
        return Arbitraries.strings().ofMaxLength(64).filter(k -> k.chars().noneMatch(c -> Character.isSurrogate((char) c)));
    }

    @Test
    void aPutWithoutValueOrKeyKeepsItsNulls() {
        Command decoded = Codec.decodeCommand(Codec.encode(new Command.KvPut(null, null, null)));

        assertThat(decoded).isInstanceOfSatisfying(Command.KvPut.class, back -> {
            assertThat(back.key()).isNull();
            assertThat(back.value()).isNull();
        });
        assertThat(Codec.decodeCommand(Codec.encode(new Command.KvPut("k", new byte[0], null))))
            .isInstanceOfSatisfying(Command.KvPut.class, back -> assertThat(back.value()).isEmpty());
    }

    /** Entries written by builds before the binary form are JSON; the log keeps them for good. */
    @Test
    void keyWritesInJsonFromEarlierBuildsAreStillRead() {
        byte[] put = "{\"command\":\"kv-put\",\"key\":\"a\",\"value\":\"AQI=\",\"expectRevision\":7}".getBytes(StandardCharsets.UTF_8);
        byte[] delete = "{\"command\":\"kv-delete\",\"key\":\"a\",\"expectRevision\":null}".getBytes(StandardCharsets.UTF_8);
        byte[] written = "{\"outcome\":\"kv-written\",\"revision\":9,\"key\":\"a\",\"createRevision\":3,\"version\":2}"
            .getBytes(StandardCharsets.UTF_8);

        assertThat(Codec.decodeCommand(put)).isInstanceOfSatisfying(Command.KvPut.class, back -> {
            assertThat(back.key()).isEqualTo("a");
            assertThat(back.value()).containsExactly(1, 2);
            assertThat(back.expectRevision()).isEqualTo(7L);
        });
        assertThat(Codec.decodeCommand(delete)).isEqualTo(new Command.KvDelete("a", null));
        assertThat(Codec.decodeOutcome(written)).isEqualTo(new Outcome.KvWritten(9, "a", 3, 2));
    }

    /** JSON starts with '{' and a batch of commands with a zero byte: neither can be taken for the binary form. */
    @Test
    void theBinaryFormIsToldApartByItsFirstByte() {
        byte[] put = Codec.encode(new Command.KvPut("k", new byte[] {1}, null));
        byte[] json = Codec.encode(new Command.RemoveNode("n"));

        assertThat(put[0]).isNotIn((byte) '{', (byte) 0);
        assertThat(json[0]).isEqualTo((byte) '{');
        assertThat(KvBinary.isBinary(json)).isFalse();
        assertThat(KvBinary.isBinary(new byte[] {0, 'H', 'R', 'D', 'B'})).isFalse();
        assertThat(KvBinary.isBinary(new byte[0])).isFalse();
    }

    @Test
    void damagedEntriesAreRefusedWithTheReason() {
        byte[] delete = Codec.encode(new Command.KvDelete("key", 5L));
        byte[] written = Codec.encode(new Outcome.KvWritten(1, "key", 1, 1));

        assertThatThrownBy(() -> Codec.decodeCommand(Arrays.copyOf(delete, delete.length - 1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a string of 3 bytes where 2 are left");
        assertThatThrownBy(() -> Codec.decodeCommand(Arrays.copyOf(delete, 5)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ends early");
        assertThatThrownBy(() -> Codec.decodeCommand(Arrays.copyOf(delete, delete.length + 2)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 bytes after the end of a binary KvDelete");
        assertThatThrownBy(() -> Codec.decodeOutcome(Arrays.copyOf(written, written.length + 1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 bytes after the end");
        assertThatThrownBy(() -> Codec.decodeCommand(written))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a binary command");
        assertThatThrownBy(() -> Codec.decodeOutcome(delete))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a binary outcome");
    }

    @Test
    void damagedAnswersToReadsAreRefusedWithTheReason() {
        byte[] found = Codec.encode(new QueryResult.KvValue(7, new KeyValue("k", new byte[] {1}, 1, 2, 1)));
        byte[] presenceTwo = found.clone();
        presenceTwo[9] = 2;
        byte[] keyless = ByteBuffer.allocate(1 + 8 + 1 + 24 + 4).put(KvBinary.VALUE).putLong(7).put((byte) 1)
            .putLong(1).putLong(2).putLong(1).putInt(-1).array();

        assertThatThrownBy(() -> Codec.decodeQueryResult(presenceTwo)).hasMessageContaining("neither 0 nor 1");
        assertThatThrownBy(() -> Codec.decodeQueryResult(keyless)).hasMessageContaining("without its key");
        assertThatThrownBy(() -> Codec.decodeQueryResult(Arrays.copyOf(found, 20))).hasMessageContaining("damaged");
        assertThatThrownBy(() -> Codec.decodeQuery(found)).hasMessageContaining("not a binary query");
    }

    @Test
    void otherQueriesAndAnswersStayJson() {
        assertThat(Codec.encode(new Query.KvList("p", 10))[0]).isEqualTo((byte) '{');
        assertThat(Codec.decodeQuery(Codec.encode(new Query.KvList("p", 10)))).isEqualTo(new Query.KvList("p", 10));
    }

    @Test
    void unknownFlagsAndTextThatIsNotUtf8AreDamage() {
        byte[] unknownFlag = ByteBuffer.allocate(6).put(KvBinary.DELETE).put((byte) 4).putInt(0).array();
        byte[] notUtf8 = ByteBuffer.allocate(8).put(KvBinary.DELETE).put((byte) 0).putInt(2).put((byte) 0xC3).put((byte) 0x28).array();
        byte[] negativeLength = ByteBuffer.allocate(6).put(KvBinary.DELETE).put((byte) 0).putInt(-2).array();
        byte[] valueWithoutFlag = ByteBuffer.allocate(8).put(KvBinary.PUT).put((byte) 0).putInt(1).put((byte) 'k').put((byte) 9).array();

        assertThatThrownBy(() -> Codec.decodeCommand(unknownFlag)).hasMessageContaining("unknown flags 100");
        assertThatThrownBy(() -> Codec.decodeCommand(notUtf8)).hasMessageContaining("not UTF-8");
        assertThatThrownBy(() -> Codec.decodeCommand(negativeLength)).hasMessageContaining("a string of -2 bytes");
        assertThatThrownBy(() -> Codec.decodeCommand(valueWithoutFlag)).hasMessageContaining("1 bytes after the end of a binary KvPut");
    }

    @Test
    void aPutTakesItsKeyValueAndAFewBytes() {
        byte[] put = Codec.encode(new Command.KvPut("00000001", new byte[256], null));

        assertThat(put).hasSize(1 + 1 + 4 + 8 + 256);
    }
}
