package herd.bench.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParsingAndReportTest {

    @Test
    void membersParse() {
        assertThat(Member.parseList("s1=127.0.0.1:2379, s2=127.0.0.1:2479"))
                .containsExactly(new Member("s1", "127.0.0.1", 2379), new Member("s2", "127.0.0.1", 2479));
    }

    @Test
    void badMembersAreExplained() {
        assertThatThrownBy(() -> Member.parseList("s1=127.0.0.1:2379,s2:2479")).hasMessageContaining("NAME=HOST:PORT");
        assertThatThrownBy(() -> Member.parseList("s1=127.0.0.1:x,s2=h:1")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> Member.parseList("s1=127.0.0.1:1")).hasMessageContaining("at least 2");
    }

    @Test
    void workloadsParse() {
        assertThat(Workload.parseList("put:1,get:64"))
                .containsExactly(new Workload(Workload.Kind.PUT, 1), new Workload(Workload.Kind.GET, 64));
        assertThatThrownBy(() -> Workload.parseList("delete:4")).hasMessageContaining("use put or get");
        assertThatThrownBy(() -> Workload.parseList("put:0")).hasMessageContaining("1..1024");
    }

    @Test
    void keysAreEightBytes() {
        var counter = new java.util.concurrent.atomic.AtomicLong(41);
        assertThat(Keys.sequential(counter)).isEqualTo("00000041").hasSize(Keys.KEY_BYTES);
        assertThat(Keys.readKey(3)).isEqualTo("r0000003").hasSize(Keys.KEY_BYTES);
    }

    @Test
    void medianOfAnEvenCountAveragesTheMiddlePair() {
        assertThat(Report.median(List.of(1300.0, 900.0, 1100.0, 5000.0))).isEqualTo(1200.0);
        assertThat(Report.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
    }

    @Test
    void resultsRoundTripIntoTheReportWithTheRatio(@TempDir Path dir) throws Exception {
        Path herdFile = dir.resolve("herd.tsv");
        Path etcdFile = dir.resolve("etcd.tsv");
        ResultsFile.appendSetting(etcdFile, "measureSeconds", "10");
        ResultsFile.appendWorkload(herdFile, new WorkloadResult(new Workload(Workload.Kind.PUT, 16), 900, 15, 40, 9000, 0, null));
        ResultsFile.appendWorkload(etcdFile, new WorkloadResult(new Workload(Workload.Kind.PUT, 16), 600, 25, 80, 6000, 2, "boom\tbang"));
        ResultsFile.appendFailover(herdFile, new FailoverBench.TrialResult(1, "s1", 800.4, "s2"));
        ResultsFile.appendFailover(etcdFile, new FailoverBench.TrialResult(1, "s2", 1300, "s3"));

        String md = Report.markdown(ResultsFile.read(herdFile), ResultsFile.read(etcdFile), List.of("CPU: 2 cores"),
                "bench/control-plane/run", "now");

        assertThat(md).contains("| put, 16 clients | 900 | 15.00 | 40.00 | 600 | 25.00 | 80.00 | 1.50 |")
                .contains("etcd put, 16 clients: 2 failed, first: boom bang")
                .contains("| 1 | 800 (s1 → s2) | 1300 (s2 → s3) |")
                .contains("| **median** | **800** | **1300** |")
                .contains("- CPU: 2 cores")
                .contains("10 s measured");
    }

    @Test
    void aSystemThatWasNotMeasuredShowsDashes(@TempDir Path dir) throws Exception {
        Path etcdFile = dir.resolve("etcd.tsv");
        ResultsFile.appendWorkload(etcdFile, new WorkloadResult(new Workload(Workload.Kind.GET, 1), 480, 1.6, 8.7, 4800, 0, null));

        String md = Report.markdown(null, ResultsFile.read(etcdFile), List.of(), "cmd", "now");

        assertThat(md).contains("**herd was not measured in this run**")
                .contains("| get (linearizable), 1 client | — | — | — | 480 | 1.60 | 8.70 | — |");
    }

    @Test
    void aCorruptResultsLineNamesTheFileAndLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.tsv");
        Files.writeString(file, "workload\tput:1\tnot-a-number\n");

        assertThatThrownBy(() -> ResultsFile.read(file)).hasMessageContaining("x.tsv line 1");
    }
}
