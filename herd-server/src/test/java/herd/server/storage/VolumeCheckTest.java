package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.core.ClusterState;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import org.junit.jupiter.api.Test;

/**
 * The walk of a volume check over object indexes, without nodes: ranges and refusals. Indexes no
 * object backs are never sent to the copies (the check here has none, and would fail if it asked).
 * Checking real copies, damaged ones among them, is ReplicationTest's.
 */
class VolumeCheckTest {
    private static final long MIB = 1L << 20;

    private final VolumeCheck check = new VolumeCheck(null);

    private static QueryResult.VolumeDetail volume(long sizeBytes) {
        ClusterState state = new ClusterState();
        assertThat(state.apply(1, new Command.CreateVolume("vm1", sizeBytes, 1, "", 1000))).isInstanceOf(Outcome.Applied.class);
        return (QueryResult.VolumeDetail) state.query(new Query.VolumeInfo("vm1"));
    }

    @Test
    void aVolumeNeverWrittenHasIndexesButNothingToCheck() {
        VolumeCheck.Report first = check.check(volume(100 * MIB), 0, VolumeCheck.MAX_OBJECTS_PER_CALL);
        assertThat(first.objectCount()).as("100 MiB in 4 MiB objects").isEqualTo(25);
        assertThat(first.next()).isEqualTo(25);
        assertThat(first.objectsChecked()).isZero();
        assertThat(first.repaired()).isEmpty();
        assertThat(first.problems()).isEmpty();
        VolumeCheck.Report range = check.check(volume(100 * MIB), 8, 10);
        assertThat(range.from()).isEqualTo(8);
        assertThat(range.next()).isEqualTo(18);
        VolumeCheck.Report atTheEnd = check.check(volume(100 * MIB), 25, 16);
        assertThat(atTheEnd.next()).as("nothing left").isEqualTo(25);
    }

    @Test
    void aRangeOutsideTheVolumeOrTooLargeIsRefusedWithTheLimits() {
        QueryResult.VolumeDetail detail = volume(10 * MIB);
        assertThatThrownBy(() -> check.check(detail, 4, 16)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("from=4 is outside volume 'vm1', which has 3 object(s) (indexes 0 to 2)");
        assertThatThrownBy(() -> check.check(detail, -1, 16)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("from=-1 is outside");
        assertThatThrownBy(() -> check.check(detail, 0, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("count=0 must be between 1 and 64");
        assertThatThrownBy(() -> check.check(detail, 0, 65)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("count=65 must be between 1 and 64");
    }
}
