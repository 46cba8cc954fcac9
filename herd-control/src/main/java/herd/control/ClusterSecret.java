package herd.control;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * The cluster secret: one private key and its self-signed certificate, created once at init and
 * copied (like corosync's authkey) to every server and client of the cluster, mode 0600.
 *
 * <p>Every connection between servers, and from clients to servers, is mutual TLS where both
 * sides present this certificate and trust nothing else: a peer that does not hold the key cannot
 * complete the handshake. The bytes are a PKCS#12 key store; its password protects nothing (it sits
 * next to the key), the file's permissions do.
 */
public final class ClusterSecret {
    private static final String ALIAS = "herd-cluster";
    private static final char[] STORE_PASSWORD = "herd-cluster".toCharArray();
    private static final long KEYTOOL_TIMEOUT_SECONDS = 60;

    private final byte[] keyStoreBytes;
    private final PrivateKey privateKey;
    private final X509Certificate certificate;

    private ClusterSecret(byte[] keyStoreBytes, PrivateKey privateKey, X509Certificate certificate) {
        this.keyStoreBytes = keyStoreBytes;
        this.privateKey = privateKey;
        this.certificate = certificate;
    }

    /**
     * Creates a new key pair and certificate (EC P-256, valid 100 years) with the JDK's keytool,
     * which every JDK and JRE ships; the JDK has no public API to sign a certificate.
     */
    public static ClusterSecret generate() throws IOException {
        final Path directory = Files.createTempDirectory("herd-secret");
        final Path store = directory.resolve("cluster.p12");
        try {
            final Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            final String password = new String(STORE_PASSWORD);
            final Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", ALIAS,
                    "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
                    "-dname", "CN=herd-cluster", "-validity", "36500", "-storetype", "PKCS12",
                    "-keystore", store.toString(), "-storepass", password, "-keypass", password)
                    .redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IOException("keytool could not create the cluster key: " + output.strip());
            }
            return fromBytes(Files.readAllBytes(store));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating the cluster key", e);
        } finally {
            Files.deleteIfExists(store);
            Files.deleteIfExists(directory);
        }
    }

    /** Reads a secret written by {@link #toBytes()}; fails with a clear message if it is not one. */
    public static ClusterSecret fromBytes(byte[] bytes) {
        try {
            final KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(bytes), STORE_PASSWORD);
            if (!(store.getKey(ALIAS, STORE_PASSWORD) instanceof PrivateKey key)
                    || !(store.getCertificate(ALIAS) instanceof X509Certificate certificate)) {
                throw new IllegalArgumentException("the cluster secret holds no key '" + ALIAS
                        + "': copy the secret file from an existing server of the cluster");
            }
            return new ClusterSecret(bytes.clone(), key, certificate);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("the cluster secret is not a valid key store (" + e.getMessage()
                    + "): copy the secret file from an existing server of the cluster", e);
        }
    }

    public byte[] toBytes() {
        return keyStoreBytes.clone();
    }

    /** Mutual TLS that presents the cluster certificate and accepts only peers presenting it too. */
    GrpcTlsConfig tlsConfig() {
        try {
            final KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, privateKey, STORE_PASSWORD, new X509Certificate[] {certificate});
            final KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, STORE_PASSWORD);
            return new GrpcTlsConfig(keys.getKeyManagers()[0], new OnlyClusterCertificate(certificate), true);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build TLS from the cluster secret", e);
        }
    }

    /**
     * Trusts exactly one certificate. Extends {@link X509ExtendedTrustManager} so the JDK adds no
     * host-name check: servers are known by the key they hold, not by the name they are reached at.
     */
    private static final class OnlyClusterCertificate extends X509ExtendedTrustManager {
        private final X509Certificate trusted;

        OnlyClusterCertificate(X509Certificate trusted) {
            this.trusted = trusted;
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0 || !Arrays.equals(chain[0].getEncoded(), trusted.getEncoded())) {
                throw new CertificateException("peer does not hold this cluster's secret");
            }
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException { check(chain); }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException { check(chain); }
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException { check(chain); }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException { check(chain); }
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException { check(chain); }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException { check(chain); }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            final List<X509Certificate> issuers = Collections.singletonList(trusted);
            return issuers.toArray(new X509Certificate[0]);
        }
    }
}
