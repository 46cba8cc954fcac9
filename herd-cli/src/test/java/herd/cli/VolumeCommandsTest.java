package herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class VolumeCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void createWithoutCopiesAsksForTheClusterDefault() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes", 201,
            "{\"name\":\"vm1\",\"id\":7,\"kind\":\"volume\",\"sizeBytes\":1073741824,\"copies\":2}")) {
            FakeApi.Run run = api.herd("volume", "create", "vm1", "1G");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).isEqualTo("created volume vm1 (id 7, 1G, 2 copies)\n");
            assertThat(JSON.readTree(api.last("POST", "/v1/volumes").body()))
                .isEqualTo(JSON.readTree("{\"name\":\"vm1\",\"sizeBytes\":1073741824,\"copies\":0,\"tag\":\"\"}"));
        }
    }

    @Test
    void createWithCopiesSendsThem() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes", 201,
            "{\"name\":\"vm1\",\"id\":7,\"kind\":\"volume\",\"sizeBytes\":1073741824,\"copies\":3}")) {
            assertThat(api.herd("volume", "create", "vm1", "1G", "--copies", "3").exitCode()).isZero();
            assertThat(api.last("POST", "/v1/volumes").body()).contains("\"copies\":3");
        }
    }

    @Test
    void tooManyCopiesIsRefusedOnOneLine() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes", 400,
            "{\"error\":{\"code\":\"bad_request\",\"message\":\"4 copies need 4 zones; the cluster has 3 zone(s)\"}}")) {
            FakeApi.Run run = api.herd("volume", "create", "wide", "16M", "--copies", "4");
            assertThat(run.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(run.err()).isEqualTo("herd: 4 copies need 4 zones; the cluster has 3 zone(s) [bad_request]\n");
        }
    }

    @Test
    void detachAsksTheNodeItTalksToAndARefusalSaysWhereTheVolumeIs() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes/vm1/detach", 200,
            "{\"name\":\"vm1\",\"id\":7,\"kind\":\"volume\",\"sizeBytes\":1073741824}")) {
            FakeApi.Run run = api.herd("volume", "detach", "vm1");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).isEqualTo("detached volume vm1\n");
        }
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes/vm1/detach", 400,
            "{\"error\":{\"code\":\"bad_request\",\"message\":\"cannot detach volume 'vm1' here: it is attached on node s2\"}}")) {
            FakeApi.Run run = api.herd("volume", "detach", "vm1");
            assertThat(run.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(run.err()).contains("it is attached on node s2");
        }
    }

    @Test
    void copiesTextOnlyWhenTheAnswerSays() throws Exception {
        assertThat(VolumeCommands.copiesText(JSON.readTree("{\"copies\":1}"))).isEqualTo(", 1 copy");
        assertThat(VolumeCommands.copiesText(JSON.readTree("{}"))).isEmpty();
    }
}
