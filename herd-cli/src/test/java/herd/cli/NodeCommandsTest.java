package herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class NodeCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String NODES = """
        {"nodes": [
          {"name": "s1", "role": "server", "apiAddress": "127.0.0.1:7001", "zone": "z1"},
          {"name": "s2", "role": "server", "apiAddress": "127.0.0.1:7002", "zone": "z2"},
          {"name": "s3", "role": "server", "apiAddress": "127.0.0.1:7003", "zone": "z3"},
          {"name": "w1", "role": "worker", "apiAddress": "127.0.0.1:7101", "zone": "z1"}
        ]}""";

    private static String print(Table table) {
        StringWriter text = new StringWriter();
        table.print(new PrintWriter(text));
        return text.toString();
    }

    @Test
    void storageColumnsComeFromTheStorageStatusByName() throws Exception {
        assertThat(print(NodeCommands.nodeTable(JSON.readTree(NODES), StorageCommandsTest.status())).lines()).containsExactly(
            "NAME  ROLE    ADDRESS         ZONE  VNODES  CAPACITY  USED  USE%",
            "s1    server  127.0.0.1:7001  z1    80      10G       2.5G  25%",
            "s2    server  127.0.0.1:7002  z2    40      5G        1G    20%",
            "s3    server  127.0.0.1:7003  z3    80      10G       -     -",
            "w1    worker  127.0.0.1:7101  z1    -       -         -     -");
    }

    @Test
    void withoutStorageStatusOnlyTheBaseColumns() throws Exception {
        assertThat(print(NodeCommands.nodeTable(JSON.readTree(NODES), null)).lines()).containsExactly(
            "NAME  ROLE    ADDRESS         ZONE",
            "s1    server  127.0.0.1:7001  z1",
            "s2    server  127.0.0.1:7002  z2",
            "s3    server  127.0.0.1:7003  z3",
            "w1    worker  127.0.0.1:7101  z1");
    }

    @Test
    void storageCellsOfANodeWithoutStorage() throws Exception {
        assertThat(NodeCommands.storageCells(null)).containsExactly("-", "-", "-", "-");
        JsonNode unreachableUnknown = JSON.readTree("{\"name\":\"x\",\"vnodes\":0,\"capacityBytes\":0,\"local\":null}");
        assertThat(NodeCommands.storageCells(unreachableUnknown)).containsExactly("-", "-", "-", "-");
    }

    @Test
    void listAsksForStorageAndShowsIt() throws Exception {
        try (FakeApi api = new FakeApi().answer("GET /v1/nodes", 200, NODES)
            .answer("GET /v1/storage/status", 200, StorageCommandsTest.STATUS)) {
            FakeApi.Run run = api.herd("node", "list");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).startsWith("NAME  ROLE    ADDRESS         ZONE  VNODES  CAPACITY  USED  USE%\n");
        }
    }

    @Test
    void listOfAnOlderServerWithoutStorageStillWorks() throws Exception {
        try (FakeApi api = new FakeApi().answer("GET /v1/nodes", 200, NODES)) {
            FakeApi.Run run = api.herd("node", "list");
            assertThat(run.exitCode()).isZero();
            assertThat(run.err()).isEmpty();
            assertThat(run.out()).startsWith("NAME  ROLE    ADDRESS         ZONE\ns1    server");
        }
    }

    @Test
    void listAsJsonIsTheNodesAnswer() throws Exception {
        try (FakeApi api = new FakeApi().answer("GET /v1/nodes", 200, NODES)) {
            FakeApi.Run run = api.herd("node", "list", "-o", "json");
            assertThat(JSON.readTree(run.out())).isEqualTo(JSON.readTree(NODES));
        }
    }
}
