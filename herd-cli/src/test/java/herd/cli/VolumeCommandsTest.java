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
                .isEqualTo(JSON.readTree("{\"name\":\"vm1\",\"sizeBytes\":1073741824,\"tag\":\"\"}"));
        }
    }

    @Test
    void cloneSendsCopiesOnlyWhenAskedAndSaysWhatItGot() throws Exception {
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes/golden/clone", 201,
            "{\"name\":\"vm1\",\"id\":9,\"kind\":\"volume\",\"sizeBytes\":1073741824,\"copies\":2}")) {
            FakeApi.Run inherited = api.herd("volume", "clone", "golden", "vm1");
            assertThat(inherited.exitCode()).isZero();
            assertThat(inherited.out()).isEqualTo("cloned snapshot golden as volume vm1 (id 9, 2 copies)\n");
            assertThat(JSON.readTree(api.last("POST", "/v1/volumes/golden/clone").body()))
                .isEqualTo(JSON.readTree("{\"newName\":\"vm1\"}"));
            assertThat(api.herd("volume", "clone", "golden", "vm1", "--copies", "2").exitCode()).isZero();
            assertThat(JSON.readTree(api.last("POST", "/v1/volumes/golden/clone").body()))
                .isEqualTo(JSON.readTree("{\"newName\":\"vm1\",\"copies\":2}"));
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
    void checkWalksTheVolumeInRangesListsWhatItFoundAndFailsOnAProblem() throws Exception {
        try (FakeApi api = new FakeApi()
                .answer("POST /v1/volumes/vm1/check?from=0&count=16", 200, """
                    {"volume":"vm1","objectCount":20,"from":0,"next":16,"objectsChecked":5,"copiesGood":9,
                     "repaired":[{"index":3,"object":"0000000700000003","node":"s2"}],"problems":[]}""")
                .answer("POST /v1/volumes/vm1/check?from=16&count=16", 200, """
                    {"volume":"vm1","objectCount":20,"from":16,"next":20,"objectsChecked":1,"copiesGood":1,"repaired":[],
                     "problems":[{"index":17,"object":"0000000700000011","node":"s3","problem":"not checked: node s3: unreachable"}]}""")) {
            FakeApi.Run run = api.herd("volume", "check", "vm1");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCode.FAILURE);
            assertThat(run.out()).isEqualTo("""
                repaired: the copy of object 0000000700000003 (index 3) on node s2 was damaged and was mended from a good copy
                problem: the copy of object 0000000700000011 (index 17) on node s3: not checked: node s3: unreachable
                volume vm1: 6 object(s) checked of 20 index(es), 10 copies good, 1 repaired, 1 problem(s)
                """);
            assertThat(api.requests).hasSize(2);
        }
        try (FakeApi api = new FakeApi().answer("POST /v1/volumes/vm1/check", 200, """
                {"volume":"vm1","objectCount":2,"from":0,"next":2,"objectsChecked":1,"copiesGood":1,"repaired":[],"problems":[]}""")) {
            FakeApi.Run run = api.herd("volume", "check", "vm1");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).isEqualTo("volume vm1: 1 object(s) checked of 2 index(es), 1 copy good, 0 repaired, 0 problem(s)\n");
        }
    }

    @Test
    void copiesTextOnlyWhenTheAnswerSays() throws Exception {
        assertThat(VolumeCommands.copiesText(JSON.readTree("{\"copies\":1}"))).isEqualTo(", 1 copy");
        assertThat(VolumeCommands.copiesText(JSON.readTree("{}"))).isEmpty();
    }
}
