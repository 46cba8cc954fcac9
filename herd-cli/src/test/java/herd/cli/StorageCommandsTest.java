package herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class StorageCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Three nodes: s1 recovering epoch 5, s2 done with it, s3 down (its report is missing). */
    static final String STATUS = """
        {"epoch": 5, "defaultCopies": 2, "zones": 3, "nodes": [
          {"name": "s1", "zone": "z1", "address": "127.0.0.1:7001", "membership": "MEMBER", "inEpoch": true, "vnodes": 80,
           "capacityBytes": 10737418240, "recoveredEpoch": 4,
           "local": {"node": "s1", "epoch": 5, "member": true, "capacityBytes": 10737418240, "usedBytes": 2684354560,
             "objects": 640, "corruptBlocksSeen": 0, "corruptCopiesSeen": 1, "repairs": 2, "copiesPulled": 10,
             "bytesPulled": 41943040,
             "recovery": {"epoch": 5, "state": "recovering", "objectsTotal": 200, "objectsDone": 80, "objectsToGo": 120,
               "bytesCopied": 335544320, "bytesToGoEstimate": 503316480, "bytesPerSecond": 50541363,
               "secondsLeftEstimate": 10},
             "scrub": {"state": "scrubbing", "passes": 2, "objectsTotal": 640, "objectsDone": 256}}},
          {"name": "s2", "zone": "z2", "address": "127.0.0.1:7002", "membership": "MEMBER", "inEpoch": true, "vnodes": 40,
           "capacityBytes": 5368709120, "recoveredEpoch": 5,
           "local": {"node": "s2", "epoch": 5, "member": true, "capacityBytes": 5368709120, "usedBytes": 1073741824,
             "objects": 256, "corruptBlocksSeen": 0, "corruptCopiesSeen": 0, "repairs": 1, "copiesPulled": 0,
             "bytesPulled": 0,
             "recovery": {"epoch": 5, "state": "complete", "objectsTotal": 30, "objectsDone": 30, "objectsToGo": 0,
               "bytesCopied": 125829120, "bytesToGoEstimate": 0, "bytesPerSecond": 1048576, "secondsLeftEstimate": 0},
             "scrub": {"state": "waiting", "passes": 1, "objectsTotal": 256, "objectsDone": 256}}},
          {"name": "s3", "zone": "z3", "address": "127.0.0.1:7003", "membership": "DOWN", "inEpoch": true, "vnodes": 80,
           "capacityBytes": 10737418240, "recoveredEpoch": 4, "local": null}
        ]}""";

    static JsonNode status() throws Exception {
        return JSON.readTree(STATUS);
    }

    @Test
    void ratesAreInPowersOf1024PerSecond() {
        assertThat(StorageCommands.rate(0)).isEqualTo("-");
        assertThat(StorageCommands.rate(512)).isEqualTo("512 B/s");
        assertThat(StorageCommands.rate(1536)).isEqualTo("1.5 KiB/s");
        assertThat(StorageCommands.rate(50541363)).isEqualTo("48.2 MiB/s");
        assertThat(StorageCommands.rate(3L << 30)).isEqualTo("3.0 GiB/s");
    }

    @Test
    void timeLeftIsShortOrADash() {
        assertThat(StorageCommands.secondsLeft(0)).isEqualTo("-");
        assertThat(StorageCommands.secondsLeft(-1)).isEqualTo("-");
        assertThat(StorageCommands.secondsLeft(12)).isEqualTo("12s");
        assertThat(StorageCommands.secondsLeft(245)).isEqualTo("4m05s");
        assertThat(StorageCommands.secondsLeft(7380)).isEqualTo("2h03m");
    }

    @Test
    void usePercentRoundsDownAndNeedsACapacity() {
        assertThat(StorageCommands.usePercent(2684354560L, 10737418240L)).isEqualTo("25%");
        assertThat(StorageCommands.usePercent(999, 1000)).isEqualTo("99%");
        assertThat(StorageCommands.usePercent(0, 1000)).isEqualTo("0%");
        assertThat(StorageCommands.usePercent(10, 0)).isEqualTo("-");
    }

    @Test
    void summaryNamesEpochDefaultCopiesAndZones() throws Exception {
        assertThat(StorageCommands.summary(status())).isEqualTo("epoch 5, default copies 2, 3 zones");
        assertThat(StorageCommands.summary(JSON.readTree("{\"epoch\":1,\"defaultCopies\":1,\"zones\":1,\"nodes\":[]}")))
            .isEqualTo("epoch 1, default copies 1, 1 zone");
    }

    @Test
    void recoveringNodeShowsWhatIsLeftRateAndTime() throws Exception {
        assertThat(StorageCommands.nodeRow(status().path("nodes").get(0))).containsExactly(
            "s1", "z1", "MEMBER", "640", "2.5G", "10G", "recovering epoch 5", "120 (≈480M)", "48.2 MiB/s", "10s",
            "scrubbing 40%");
    }

    @Test
    void finishedRecoveryShowsNoRateNorTimeLeft() throws Exception {
        assertThat(StorageCommands.nodeRow(status().path("nodes").get(1))).containsExactly(
            "s2", "z2", "MEMBER", "256", "1G", "5G", "complete epoch 5", "-", "-", "-", "1 pass");
    }

    @Test
    void nodeWithoutItsOwnReportIsUnreachable() throws Exception {
        assertThat(StorageCommands.nodeRow(status().path("nodes").get(2))).containsExactly(
            "s3", "z3", "DOWN", "-", "-", "10G", "unreachable", "-", "-", "-", "-");
    }

    @Test
    void memberNotYetInTheEpochSaysSo() throws Exception {
        JsonNode node = JSON.readTree("""
            {"name": "s4", "zone": "z4", "membership": "MEMBER", "inEpoch": false, "vnodes": 0, "capacityBytes": 0,
             "local": {"objects": 0, "capacityBytes": 1073741824, "usedBytes": 0,
               "recovery": {"epoch": 0, "state": "idle", "objectsToGo": 0}}}""");
        assertThat(StorageCommands.nodeRow(node)).containsExactly(
            "s4", "z4", "MEMBER (not in epoch)", "0", "0B", "1G", "idle", "-", "-", "-", "-");
    }

    @Test
    void aMemberCutOffFromTheEpochSaysWhoCannotReachIt() throws Exception {
        JsonNode node = JSON.readTree("""
            {"name": "s2", "zone": "z2", "membership": "MEMBER", "inEpoch": false, "vnodes": 0, "capacityBytes": 0,
             "cutOffBy": ["s1", "s3"],
             "local": {"objects": 5, "capacityBytes": 1073741824, "usedBytes": 0,
               "recovery": {"epoch": 0, "state": "idle", "objectsToGo": 0}}}""");
        assertThat(StorageCommands.nodeRow(node)[2]).isEqualTo("CUT OFF (s1, s3 cannot reach it)");
    }

    @Test
    void aMemberWhoseStoreDoesNotAnswerSaysWhyAndWhetherItIsOut() throws Exception {
        String row = """
            {"name": "s2", "zone": "z2", "membership": "MEMBER", "inEpoch": %s, "vnodes": 0, "capacityBytes": 0,
             "cutOffBy": [], "stall": "an operation on its store has waited 12 s", "local": null}""";
        assertThat(StorageCommands.nodeRow(JSON.readTree(row.formatted("false")))[2])
            .isEqualTo("OUT, STORE STALLED (an operation on its store has waited 12 s)");
        assertThat(StorageCommands.nodeRow(JSON.readTree(row.formatted("true")))[2])
            .isEqualTo("STORE STALLED (an operation on its store has waited 12 s), kept in: one node at a time is taken out");
    }

    @Test
    void scrubColumnSaysOffPassesOrHowFarThePassIs() throws Exception {
        assertThat(StorageCommands.scrub(JSON.readTree("{\"state\": \"off\", \"passes\": 0}"))).isEqualTo("off");
        assertThat(StorageCommands.scrub(JSON.readTree("{\"state\": \"waiting\", \"passes\": 0}"))).isEqualTo("0 passes");
        assertThat(StorageCommands.scrub(JSON.readTree("{\"state\": \"waiting\", \"passes\": 3}"))).isEqualTo("3 passes");
        assertThat(StorageCommands.scrub(JSON.readTree(
            "{\"state\": \"scrubbing\", \"passes\": 0, \"objectsTotal\": 0, \"objectsDone\": 0}"))).isEqualTo("scrubbing 0%");
        assertThat(StorageCommands.scrub(JSON.readTree("{}"))).as("a node that does not say").isEqualTo("-");
    }

    @Test
    void totalsNameOnlyWhatIsNotZero() throws Exception {
        assertThat(StorageCommands.totals(status())).isEqualTo("total: 3 repairs, 1 corrupt copy seen");
        assertThat(StorageCommands.totals(JSON.readTree("{\"nodes\":[{\"local\":null},{\"local\":{\"repairs\":0}}]}")))
            .isEmpty();
        assertThat(StorageCommands.totals(JSON.readTree(
            "{\"nodes\":[{\"local\":{\"repairs\":1,\"corruptCopiesSeen\":2,\"corruptBlocksSeen\":1}}]}")))
            .isEqualTo("total: 1 repair, 2 corrupt copies seen, 1 corrupt block seen");
    }

    @Test
    void statusPrintsSummaryTableAndTotals() throws Exception {
        StringWriter text = new StringWriter();
        StorageCommands.printStatus(status(), new PrintWriter(text));
        assertThat(text.toString().lines()).containsExactly(
            "epoch 5, default copies 2, 3 zones",
            "NODE  ZONE  STATE   OBJECTS  USED  CAPACITY  RECOVERY            TO-GO        RATE        LEFT  SCRUB",
            "s1    z1    MEMBER  640      2.5G  10G       recovering epoch 5  120 (≈480M)  48.2 MiB/s  10s   scrubbing 40%",
            "s2    z2    MEMBER  256      1G    5G        complete epoch 5    -            -           -     1 pass",
            "s3    z3    DOWN    -        -     10G       unreachable         -            -           -     -",
            "total: 3 repairs, 1 corrupt copy seen");
    }

    @Test
    void statusWithoutTroubleHasNoTotalsLine() throws Exception {
        StringWriter text = new StringWriter();
        StorageCommands.printStatus(JSON.readTree("{\"epoch\":1,\"defaultCopies\":1,\"zones\":2,\"nodes\":[]}"),
            new PrintWriter(text));
        assertThat(text.toString().lines()).containsExactly("epoch 1, default copies 1, 2 zones",
            "NODE  ZONE  STATE  OBJECTS  USED  CAPACITY  RECOVERY  TO-GO  RATE  LEFT  SCRUB");
    }

    @Test
    void formatLineSaysTheDefault() {
        assertThat(StorageCommands.formatLine(2)).isEqualTo("volumes keep 2 copies by default");
        assertThat(StorageCommands.formatLine(1)).isEqualTo("volumes keep 1 copy by default");
    }

    @Test
    void storageStatusCommandAsTableAndJson() throws Exception {
        try (FakeApi api = new FakeApi().answer("GET /v1/storage/status", 200, STATUS)) {
            FakeApi.Run table = api.herd("storage", "status");
            assertThat(table.exitCode()).isZero();
            assertThat(table.out()).startsWith("epoch 5, default copies 2, 3 zones\nNODE  ZONE");
            assertThat(api.last("GET", "/v1/storage/status").authorization()).isEqualTo("Bearer t");

            FakeApi.Run json = api.herd("storage", "status", "-o", "json");
            assertThat(json.exitCode()).isZero();
            assertThat(JSON.readTree(json.out())).isEqualTo(status());
        }
    }

    @Test
    void storageFormatPostsTheCopiesAndSaysTheNewDefault() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/storage/format", 200, STATUS)) {
            FakeApi.Run run = api.herd("storage", "format", "--copies", "2");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).isEqualTo("volumes keep 2 copies by default\n");
            assertThat(JSON.readTree(api.last("POST", "/v1/storage/format").body()))
                .isEqualTo(JSON.readTree("{\"copies\": 2}"));

            FakeApi.Run json = api.herd("storage", "format", "--copies", "2", "-o", "json");
            assertThat(JSON.readTree(json.out()).path("defaultCopies").asInt()).isEqualTo(2);
        }
    }

    @Test
    void storageFormatRefusalIsOneLine() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/storage/format", 400,
            "{\"error\":{\"code\":\"bad_request\",\"message\":\"4 copies need 4 zones; the cluster has 3 zone(s)\"}}")) {
            FakeApi.Run run = api.herd("storage", "format", "--copies", "4");
            assertThat(run.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(run.out()).isEmpty();
            assertThat(run.err()).isEqualTo("herd: 4 copies need 4 zones; the cluster has 3 zone(s) [bad_request]\n");
        }
    }

    @Test
    void storageFormatNeedsCopies() throws Exception {
        try (FakeApi api = new FakeApi()) {
            assertThat(api.herd("storage", "format").exitCode()).isEqualTo(ExitCode.USAGE);
            FakeApi.Run zero = api.herd("storage", "format", "--copies", "0");
            assertThat(zero.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(zero.err()).isEqualTo("herd: --copies must be 1 or more, not 0\n");
            assertThat(api.requests).isEmpty();
        }
    }
}
