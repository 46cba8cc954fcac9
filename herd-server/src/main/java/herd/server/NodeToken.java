package herd.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The bearer token nodes use on each other's HTTP API: derived from the cluster secret, so only
 * holders of the secret can present it, and the secret itself never travels.
 */
public final class NodeToken {
    private NodeToken() {}

    public static String fromClusterSecret(byte[] clusterSecret) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update("herd node token v1\n".getBytes(StandardCharsets.UTF_8));
            return "node-" + HexFormat.of().formatHex(sha256.digest(clusterSecret));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
