package herd.server.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks bearer tokens. Operators use the admin token; nodes prove membership to each other with
 * the cluster secret. Both comparisons take the same time whatever the guess (digests compared with
 * {@link MessageDigest#isEqual}), so a caller cannot find a token byte by byte.
 */
public final class Authenticator {
    private final byte[] adminTokenDigest;
    private final byte[] clusterSecretDigest;

    public Authenticator(String adminToken, String clusterSecret) {
        this.adminTokenDigest = digest(adminToken);
        this.clusterSecretDigest = digest(clusterSecret);
    }

    /** True when the Authorization header carries the admin token or the cluster secret. */
    public boolean allows(String authorizationHeader) {
        String token = bearerToken(authorizationHeader);
        if (token == null) {
            return false;
        }
        byte[] presented = digest(token);
        boolean admin = MessageDigest.isEqual(presented, adminTokenDigest);
        boolean member = MessageDigest.isEqual(presented, clusterSecretDigest);
        return admin | member;
    }

    static String bearerToken(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    private static byte[] digest(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
