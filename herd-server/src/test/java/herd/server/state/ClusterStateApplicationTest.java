package herd.server.state;

import static org.assertj.core.api.Assertions.assertThat;

import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClusterStateApplicationTest {
    private static byte[] put(String key, String value) {
        return Codec.encode(new Command.KvPut(key, value.getBytes(StandardCharsets.UTF_8), null));
    }

    @Test
    void appliesCommandsAndAnswersQueries() {
        ClusterStateApplication app = new ClusterStateApplication();

        Outcome outcome = Codec.decodeOutcome(app.apply(1, put("a", "1")));
        QueryResult value = Codec.decodeQueryResult(app.query(Codec.encode(new Query.KvGet("a"))));

        assertThat(outcome).isInstanceOf(Outcome.KvWritten.class);
        assertThat(((QueryResult.KvValue) value).kv().value()).isEqualTo("1".getBytes(StandardCharsets.UTF_8));
        assertThat(app.lastAppliedIndex()).isEqualTo(1);
        assertThat(app.appliedSignal().appliedIndex()).isEqualTo(1);
    }

    @Test
    void anUndecodableEntryIsRejectedTheSameWayEverywhereAndAdvancesTheIndex() {
        ClusterStateApplication app = new ClusterStateApplication();

        Outcome outcome = Codec.decodeOutcome(app.apply(1, "{\"command\":\"from-the-future\"}".getBytes(StandardCharsets.UTF_8)));
        Outcome next = Codec.decodeOutcome(app.apply(2, put("a", "1")));

        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        assertThat(next).isInstanceOf(Outcome.KvWritten.class);
        assertThat(app.lastAppliedIndex()).isEqualTo(2);
    }

    /** The binary form of key writes: damage there is rejected like undecodable JSON, and changes nothing. */
    @Test
    void aDamagedBinaryPutIsRejectedAndChangesNothing() {
        ClusterStateApplication app = new ClusterStateApplication();
        byte[] put = put("a", "1");

        Outcome cut = Codec.decodeOutcome(app.apply(1, java.util.Arrays.copyOf(put, 5)));
        Outcome whole = Codec.decodeOutcome(app.apply(2, put));

        assertThat(cut).isInstanceOfSatisfying(Outcome.Rejected.class,
            rejected -> assertThat(rejected.rejection().message()).contains("ends early"));
        assertThat(whole).isInstanceOfSatisfying(Outcome.KvWritten.class, written -> assertThat(written.revision()).isEqualTo(1));
        assertThat(app.lastAppliedIndex()).isEqualTo(2);
    }

    @Test
    void aSnapshotRestoresTheStateIntoAFreshApplication() throws Exception {
        ClusterStateApplication original = new ClusterStateApplication();
        original.apply(1, put("a", "1"));
        original.apply(2, put("b", "2"));
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        original.writeSnapshot(snapshot);

        ClusterStateApplication restored = new ClusterStateApplication();
        restored.readSnapshot(new ByteArrayInputStream(snapshot.toByteArray()));

        assertThat(restored.lastAppliedIndex()).isEqualTo(2);
        assertThat(restored.appliedSignal().appliedIndex()).isEqualTo(2);
        assertThat(restored.query(new Query.KvList("", 10))).isEqualTo(original.query(new Query.KvList("", 10)));
        assertThat(Codec.decodeOutcome(restored.apply(3, put("c", "3")))).isEqualTo(Codec.decodeOutcome(original.apply(3, put("c", "3"))));
    }

    /** Snapshots are written on another thread while entries go on applying: the copy must not move. */
    @Test
    void aCapturedSnapshotHoldsTheStateOfItsMomentWhateverIsAppliedAfter() throws Exception {
        ClusterStateApplication original = new ClusterStateApplication();
        original.apply(1, put("a", "1"));
        original.apply(2, put("b", "2"));
        QueryResult listedWhenCaptured = original.query(new Query.KvList("", 10));
        var captured = original.captureSnapshot();
        original.apply(3, put("a", "changed"));
        original.apply(4, Codec.encode(new Command.KvDelete("b", null)));
        original.apply(5, put("c", "3"));
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        captured.writeTo(snapshot);

        ClusterStateApplication restored = new ClusterStateApplication();
        restored.readSnapshot(new ByteArrayInputStream(snapshot.toByteArray()));

        assertThat(restored.lastAppliedIndex()).isEqualTo(2);
        assertThat(restored.query(new Query.KvList("", 10))).isEqualTo(listedWhenCaptured);
    }

    @Test
    void aWaiterWakesWhenAnEntryIsApplied() throws Exception {
        ClusterStateApplication app = new ClusterStateApplication();
        Thread applier = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            app.apply(1, put("a", "1"));
        });

        long seen = app.appliedSignal().awaitAbove(0, 10_000);

        assertThat(seen).isEqualTo(1);
        applier.join();
        assertThat(app.appliedSignal().awaitAbove(1, 10)).isEqualTo(1);
    }
}
