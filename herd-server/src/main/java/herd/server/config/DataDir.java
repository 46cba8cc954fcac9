package herd.server.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * A node's data directory:
 * <pre>
 *   node.json        what the node is (NodeConfig)
 *   admin.token      the operators' API token            (0600)
 *   cluster.secret   what servers and nodes prove to each other (0600)
 *   raft/            the Raft log, metadata and snapshots
 * </pre>
 * Files are written to a temporary name, fsynced and renamed, so a crash leaves the old or the new
 * content, never half of it.
 */
public final class DataDir {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int SECRET_BYTES = 32;

    private final Path root;

    public DataDir(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path configFile() {
        return root.resolve("node.json");
    }

    public Path adminTokenFile() {
        return root.resolve("admin.token");
    }

    public Path clusterSecretFile() {
        return root.resolve("cluster.secret");
    }

    /** A backup the founder of a restored cluster loads on its first leadership; renamed when done. */
    public Path restoreFile() {
        return root.resolve("restore.json");
    }

    public Path raftDir() {
        return root.resolve("raft");
    }

    public boolean isInitialised() {
        return Files.exists(configFile());
    }

    public NodeConfig readConfig() throws IOException {
        if (!isInitialised()) {
            throw new IOException(root + " holds no herd node (no node.json): run 'herd init' to create a cluster, "
                + "or 'herd agent --join' / 'herd join' to add this machine to one");
        }
        return JSON.readValue(configFile().toFile(), NodeConfig.class);
    }

    public void writeConfig(NodeConfig config) throws IOException {
        writeAtomically(configFile(), JSON.writeValueAsBytes(config), false);
    }

    public String readAdminToken() throws IOException {
        return Files.readString(adminTokenFile(), StandardCharsets.UTF_8).trim();
    }

    /** The cluster secret's bytes (a key store; see herd.control.ClusterSecret). */
    public byte[] readClusterSecret() throws IOException {
        return Files.readAllBytes(clusterSecretFile());
    }

    public void writeAdminToken(String token) throws IOException {
        writeAtomically(adminTokenFile(), (token + "\n").getBytes(StandardCharsets.UTF_8), true);
    }

    public void writeClusterSecret(byte[] secret) throws IOException {
        writeAtomically(clusterSecretFile(), secret, true);
    }

    /** A new random secret, URL-safe base64 of 256 bits. */
    public static String newSecret(SecureRandom random) {
        byte[] bytes = new byte[SECRET_BYTES];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public void create() throws IOException {
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    }

    private static void writeAtomically(Path target, byte[] content, boolean secret) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        if (secret) {
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        }
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(java.nio.ByteBuffer.wrap(content));
            channel.force(true);
        }
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDirectory(target.getParent());
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
