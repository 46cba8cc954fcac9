package herd.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirTest {
    @TempDir Path root;

    @Test
    void secretsAreReadableByTheOwnerOnly() throws IOException {
        DataDir dir = new DataDir(root.resolve("node"));
        dir.create();
        dir.writeAdminToken("admin-x");
        dir.writeClusterSecret(new byte[] {1, 2, 3});

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.adminTokenFile()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.clusterSecretFile()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.root()))).isEqualTo("rwx------");
        assertThat(dir.readAdminToken()).isEqualTo("admin-x");
        assertThat(dir.readClusterSecret()).containsExactly(1, 2, 3);
    }

    @Test
    void theConfigurationSurvivesAWriteAndReadAndLeavesNoTemporaryFile() throws IOException {
        DataDir dir = new DataDir(root);
        NodeConfig config = new NodeConfig("s1", NodeConfig.SERVER, "prod", "127.0.0.1:7100", "127.0.0.1:7101", "s1",
            "0f0e0d0c-0b0a-0908-0706-050403020100", true, Map.of("s1", "127.0.0.1:7101"), List.of(), List.of("hook", "leader"),
            null, 1000, 2000, 50);

        dir.writeConfig(config);
        dir.writeConfig(config);

        assertThat(dir.readConfig()).isEqualTo(config);
        try (var files = Files.list(root)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("node.json");
        }
    }

    @Test
    void aDirectoryWithoutANodeSaysWhatToDo() {
        assertThatThrownBy(() -> new DataDir(root).readConfig())
            .isInstanceOf(IOException.class)
            .hasMessageContaining("herd init");
    }

    @Test
    void newSecretsAreLongAndDifferent() {
        SecureRandom random = new SecureRandom();
        String a = DataDir.newSecret(random);
        String b = DataDir.newSecret(random);
        assertThat(a).hasSizeGreaterThanOrEqualTo(43).isNotEqualTo(b);
    }
}
