package herd.core.kv;

import static org.assertj.core.api.Assertions.assertThat;

import herd.core.ErrorCode;
import herd.core.Limits;
import herd.core.command.Outcome;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvStoreTest {
    private final KvStore store = new KvStore();

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putCreatesThenUpdatesWithRevisionsAndVersions() {
        Outcome first = store.put("a", bytes("1"), null);
        Outcome second = store.put("a", bytes("2"), null);

        assertThat(first).isEqualTo(new Outcome.KvWritten(1, "a", 1, 1));
        assertThat(second).isEqualTo(new Outcome.KvWritten(2, "a", 1, 2));
        assertThat(store.revision()).isEqualTo(2);
        assertThat(store.get("a")).contains(new KeyValue("a", bytes("2"), 1, 2, 2));
        assertThat(((Outcome.KvWritten) second).withValue(bytes("2"))).isEqualTo(store.get("a").orElseThrow());
    }

    @Test
    void compareAndSetSucceedsOnlyOnTheCurrentModRevision() {
        store.put("a", bytes("1"), null);
        store.put("b", bytes("x"), null);

        Outcome stale = store.put("a", bytes("2"), 2L);
        Outcome fresh = store.put("a", bytes("2"), 1L);

        assertThat(stale).isInstanceOf(Outcome.RevisionMismatch.class);
        assertThat(((Outcome.RevisionMismatch) stale).current().modRevision()).isEqualTo(1);
        assertThat(fresh).isInstanceOf(Outcome.KvWritten.class);
        assertThat(store.get("a").orElseThrow().value()).isEqualTo(bytes("2"));
    }

    @Test
    void compareAndSetWithZeroMeansCreateOnlyIfAbsent() {
        assertThat(store.put("a", bytes("1"), 0L)).isInstanceOf(Outcome.KvWritten.class);
        Outcome again = store.put("a", bytes("2"), 0L);

        assertThat(again).isInstanceOf(Outcome.RevisionMismatch.class);
        assertThat(store.get("a").orElseThrow().value()).isEqualTo(bytes("1"));
        assertThat(store.revision()).isEqualTo(1);
    }

    @Test
    void deleteRemovesAndRecreationStartsANewLife() {
        store.put("a", bytes("1"), null);
        store.put("a", bytes("2"), null);

        assertThat(store.delete("a", null)).isEqualTo(new Outcome.KvDeleted(3, 1));
        assertThat(store.get("a")).isEmpty();
        store.put("a", bytes("3"), null);

        assertThat(store.get("a")).contains(new KeyValue("a", bytes("3"), 4, 4, 1));
    }

    @Test
    void deletingAMissingKeyChangesNothing() {
        store.put("a", bytes("1"), null);

        assertThat(store.delete("zzz", null)).isEqualTo(new Outcome.KvDeleted(1, 0));
        assertThat(store.revision()).isEqualTo(1);
        assertThat(store.history()).hasSize(1);
    }

    @Test
    void deleteWithExpectedRevisionRefusesAStaleOne() {
        store.put("a", bytes("1"), null);
        store.put("a", bytes("2"), null);

        assertThat(store.delete("a", 1L)).isInstanceOf(Outcome.RevisionMismatch.class);
        assertThat(store.get("a")).isPresent();
        assertThat(store.delete("a", 2L)).isEqualTo(new Outcome.KvDeleted(3, 1));
    }

    @Test
    void everyBadInputIsRejectedAndChangesNothing() {
        store.put("keep", bytes("v"), null);
        long revisionBefore = store.revision();

        assertRejected(store.put("", bytes("v"), null), ErrorCode.KEY_EMPTY);
        assertRejected(store.put(null, bytes("v"), null), ErrorCode.KEY_EMPTY);
        assertRejected(store.put("k".repeat(Limits.MAX_KEY_BYTES + 1), bytes("v"), null), ErrorCode.KEY_TOO_LARGE);
        assertRejected(store.put("é".repeat(Limits.MAX_KEY_BYTES / 2 + 1), bytes("v"), null), ErrorCode.KEY_TOO_LARGE);
        assertRejected(store.put("a\u0000b", bytes("v"), null), ErrorCode.KEY_INVALID);
        assertRejected(store.put("a\nb", bytes("v"), null), ErrorCode.KEY_INVALID);
        assertRejected(store.put("a\uD800b", bytes("v"), null), ErrorCode.KEY_INVALID);
        assertRejected(store.put("k", new byte[Limits.MAX_VALUE_BYTES + 1], null), ErrorCode.VALUE_TOO_LARGE);
        assertRejected(store.put("k", null, null), ErrorCode.BAD_REQUEST);
        assertRejected(store.put("k", bytes("v"), -1L), ErrorCode.BAD_REVISION);
        assertRejected(store.delete("", null), ErrorCode.KEY_EMPTY);
        assertRejected(store.delete("k", -5L), ErrorCode.BAD_REVISION);

        assertThat(store.revision()).isEqualTo(revisionBefore);
        assertThat(store.size()).isEqualTo(1);
        assertThat(store.history()).hasSize(1);
    }

    @Test
    void limitsThemselvesAreAccepted() {
        String longestKey = "k".repeat(Limits.MAX_KEY_BYTES);
        assertThat(store.put(longestKey, new byte[Limits.MAX_VALUE_BYTES], null)).isInstanceOf(Outcome.KvWritten.class);
        assertThat(store.put("empty", new byte[0], null)).isInstanceOf(Outcome.KvWritten.class);
        assertThat(store.put("emoji-\uD83D\uDE00", bytes("v"), null)).isInstanceOf(Outcome.KvWritten.class);
    }

    @Test
    void listReturnsKeysUnderAPrefixInOrderWithALimit() {
        for (String key : List.of("b/2", "a/1", "b/1", "b/3", "c")) {
            store.put(key, bytes(key), null);
        }

        assertThat(store.list("b/", 10)).extracting(KeyValue::key).containsExactly("b/1", "b/2", "b/3");
        assertThat(store.list("b/", 2)).extracting(KeyValue::key).containsExactly("b/1", "b/2");
        assertThat(store.hasMoreThan("b/", 2)).isTrue();
        assertThat(store.hasMoreThan("b/", 3)).isFalse();
        assertThat(store.list("", 100)).hasSize(5);
        assertThat(store.list("x", 100)).isEmpty();
    }

    @Test
    void watchReturnsChangesFromARevisionFilteredByKeyOrPrefix() {
        store.put("a/1", bytes("1"), null);   // 1
        store.put("b", bytes("1"), null);     // 2
        store.put("a/2", bytes("2"), null);   // 3
        store.delete("a/1", null);            // 4

        WatchBatch prefixBatch = store.changesSince(2, WatchFilter.prefix("a/"));
        WatchBatch keyBatch = store.changesSince(1, WatchFilter.key("b"));

        assertThat(prefixBatch.events()).extracting(KvEvent::revision).containsExactly(3L, 4L);
        assertThat(prefixBatch.events().get(1).type()).isEqualTo(KvEvent.Type.DELETE);
        assertThat(prefixBatch.currentRevision()).isEqualTo(4);
        assertThat(keyBatch.events()).extracting(KvEvent::revision).containsExactly(2L);
        assertThat(store.changesSince(5, WatchFilter.prefix("")).events()).isEmpty();
    }

    @Test
    void watchFromACompactedRevisionIsRefusedWithTheOldestAvailable() {
        for (int i = 0; i < Limits.WATCH_HISTORY_MAX_EVENTS + 5; i++) {
            store.put("k", bytes(Integer.toString(i)), null);
        }

        WatchBatch refused = store.changesSince(5, WatchFilter.prefix(""));
        WatchBatch oldest = store.changesSince(6, WatchFilter.prefix(""));

        assertThat(refused.isRefused()).isTrue();
        assertThat(refused.refusal().code()).isEqualTo(ErrorCode.REVISION_COMPACTED);
        assertThat(refused.refusal().message()).contains("oldest revision still available is 6");
        assertThat(oldest.isRefused()).isFalse();
        assertThat(oldest.events()).hasSize(Limits.MAX_WATCH_BATCH);
        assertThat(oldest.events().get(0).revision()).isEqualTo(6);
    }

    @Test
    void historyIsBoundedInBytesToo() {
        byte[] big = new byte[Limits.MAX_VALUE_BYTES];
        long puts = Limits.WATCH_HISTORY_MAX_BYTES / big.length + 3;
        for (int i = 0; i < puts; i++) {
            store.put("big", big, null);
        }

        long keptBytes = store.history().stream().mapToLong(e -> e.kv().value().length).sum();
        assertThat(keptBytes).isLessThanOrEqualTo(Limits.WATCH_HISTORY_MAX_BYTES);
        assertThat(store.compactedRevision()).isGreaterThan(0);
    }

    private static void assertRejected(Outcome outcome, ErrorCode code) {
        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        assertThat(((Outcome.Rejected) outcome).rejection().code()).isEqualTo(code);
        assertThat(((Outcome.Rejected) outcome).rejection().message()).isNotBlank();
    }
}
