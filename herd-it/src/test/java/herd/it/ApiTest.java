package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API and CLI of one real server: security, bad input, key-value semantics, watch, backup and restore. */
class ApiTest {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir static Path root;
    static HerdCluster cluster;
    static HttpKv client;

    @BeforeAll
    static void startServer() throws Exception {
        cluster = HerdCluster.start(root.resolve("cluster"), 1);
        client = cluster.client();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyRequestButHealthNeedsTheToken() throws Exception {
        HttpKv anonymous = new HttpKv(cluster.endpoints(), null);
        HttpKv wrong = new HttpKv(cluster.endpoints(), "admin-wrong");

        assertThat(anonymous.getJson("/v1/health").status()).isEqualTo(200);
        assertThat(anonymous.get("a").status()).isEqualTo(401);
        assertThat(anonymous.get("a").errorCode()).isEqualTo("unauthorized");
        assertThat(wrong.put("a", "x").status()).isEqualTo(401);
        assertThat(wrong.getJson("/v1/servers").status()).isEqualTo(401);
        assertThat(client.get("a").status()).isEqualTo(404);
        assertThat(Files.getPosixFilePermissions(cluster.adminTokenFile())).hasToString("[OWNER_READ, OWNER_WRITE]");
    }

    @Test
    void badRequestsGetAClearErrorAndChangeNothing() throws Exception {
        long before = revision();

        HttpKv.Reply tooLarge = client.put("big", "x".repeat(1024 * 1024 + 1));
        HttpKv.Reply longKey = client.put("k".repeat(4097), "v");
        HttpKv.Reply notJson = client.send("PUT", HttpKv.keyPath("k"), "{not json", cluster.adminToken());
        HttpKv.Reply noValue = client.send("PUT", HttpKv.keyPath("k"), "{}", cluster.adminToken());
        HttpKv.Reply badBase64 = client.send("PUT", HttpKv.keyPath("k"), "{\"valueBase64\":\"%%%\"}", cluster.adminToken());
        HttpKv.Reply negativeRevision = client.cas("k", -1, "v");
        HttpKv.Reply badLimit = client.getJson("/v1/kv?limit=0");
        HttpKv.Reply unknownPath = client.getJson("/v1/nothing");
        HttpKv.Reply controlChar = client.put("a\u0001b", "v");
        // A write entry forwarded by a server (a batch marker, a count of 2, then nothing).
        HttpKv.Reply damagedEntry = client.send("POST", "/v1/internal/entries", "\u0000HRDB\u0000\u0000\u0000\u0002",
            cluster.adminToken());

        assertThat(tooLarge.status()).isEqualTo(400);
        assertThat(tooLarge.errorCode()).isEqualTo("value_too_large");
        assertThat(longKey.errorCode()).isEqualTo("key_too_large");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(noValue.body().path("error").path("message").asText()).contains("value");
        assertThat(badBase64.status()).isEqualTo(400);
        assertThat(negativeRevision.errorCode()).isEqualTo("bad_revision");
        assertThat(badLimit.status()).isEqualTo(400);
        assertThat(unknownPath.status()).isEqualTo(404);
        assertThat(controlChar.errorCode()).isEqualTo("key_invalid");
        assertThat(damagedEntry.status()).isEqualTo(400);
        assertThat(damagedEntry.body().path("error").path("message").asText()).contains("forwarded entry is damaged");
        assertThat(revision()).isEqualTo(before);
    }

    @Test
    void aServerNamesThePortItTakesForwardedWritesOn() throws Exception {
        HttpKv.Reply channel = client.getJson("/v1/internal/entries/channel");

        assertThat(channel.status()).isEqualTo(200);
        int port = channel.body().path("port").asInt();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            assertThat(socket.isConnected()).as("something listens on port " + port).isTrue();
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderAndBrokenOnesGetAJsonError() throws Exception {
        String token = cluster.adminToken();
        String put = "{\"value\":\"one\"}";
        String pipelined = request("GET", "/v1/kv/pipe", token, "", "")
            + request("PUT", "/v1/kv/pipe", token, put, "")
            + request("GET", "/v1/kv/pipe", token, "", "Connection: close\r\n");

        List<String> answers = statusLines(exchangeRaw(pipelined));
        String tooLarge = exchangeRaw("PUT /v1/kv/huge HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + token
            + "\r\nContent-Length: " + (8 * 1024 * 1024) + "\r\n\r\n");
        String notHttp = exchangeRaw("NOT HTTP AT ALL\r\n\r\n");

        // Served out of order, the first read would see the put.
        assertThat(answers).containsExactly("HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK");
        assertThat(tooLarge).startsWith("HTTP/1.1 413").contains("\"value_too_large\"");
        assertThat(notHttp).startsWith("HTTP/1.1 400").contains("\"bad_request\"");
        assertThat(client.get("huge").status()).isEqualTo(404);
    }

    private static String request(String method, String path, String token, String body, String extraHeaders) {
        return method + " " + path + " HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + token + "\r\n" + extraHeaders
            + "Content-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
            + "\r\n\r\n" + body;
    }

    /** Writes {@code text} to the server on a new connection and reads until the server closes it. */
    private static String exchangeRaw(String text) throws Exception {
        String[] hostPort = cluster.endpoints().get(0).split(":");
        try (Socket socket = new Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The status lines of answers read back to back (a body need not end with a line break). */
    private static List<String> statusLines(String answers) {
        return java.util.regex.Pattern.compile("HTTP/1\\.1 \\d{3} [^\\r]*").matcher(answers).results()
            .map(java.util.regex.MatchResult::group).toList();
    }

    @Test
    void theLargestKeyAndValueGoThroughRaftAndBack() throws Exception {
        String key = "k".repeat(4096);
        String value = "v".repeat(1024 * 1024);

        HttpKv.Reply put = client.put(key, value);

        assertThat(put.status()).as(put.body().toString().substring(0, Math.min(300, put.body().toString().length()))).isEqualTo(200);
        assertThat(client.get(key).value()).isEqualTo(value);
    }

    @Test
    void compareAndSetDeleteAndListFollowEtcdSemantics() throws Exception {
        HttpKv.Reply created = client.cas("cas/a", 0, "one");
        HttpKv.Reply again = client.cas("cas/a", 0, "two");
        HttpKv.Reply stale = client.cas("cas/a", created.modRevision() - 1, "two");
        HttpKv.Reply fresh = client.cas("cas/a", created.modRevision(), "two");
        client.put("cas/b", "x");
        HttpKv.Reply list = client.getJson("/v1/kv?prefix=cas/");
        HttpKv.Reply deleted = client.delete("cas/b");
        HttpKv.Reply deletedAgain = client.delete("cas/b");

        assertThat(created.status()).isEqualTo(200);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.body().path("current").path("value").asText()).isEqualTo("one");
        assertThat(stale.status()).isEqualTo(409);
        assertThat(fresh.status()).isEqualTo(200);
        assertThat(fresh.body().path("kv").path("version").asLong()).isEqualTo(2);
        assertThat(fresh.body().path("kv").path("key").asText()).isEqualTo("cas/a");
        assertThat(fresh.body().path("kv").path("value").asText()).isEqualTo("two");
        assertThat(fresh.body().path("kv").path("createRevision").asLong()).isEqualTo(created.modRevision());
        assertThat(fresh.body().path("kv").path("modRevision").asLong()).isEqualTo(fresh.body().path("revision").asLong());
        assertThat(list.body().path("kvs")).hasSize(2);
        assertThat(deleted.body().path("deleted").asInt()).isEqualTo(1);
        assertThat(deletedAgain.body().path("deleted").asInt()).isZero();
        assertThat(client.get("cas/a").value()).isEqualTo("two");
    }

    @Test
    void aWatchStreamsChangesInOrderAndResumesFromARevision() throws Exception {
        long start = client.put("watch/a", "1").revision();
        client.put("other", "x");
        client.put("watch/b", "2");
        client.delete("watch/a");

        List<String> events = readWatch("/v1/watch?prefix=watch/&fromRevision=" + start, 3);
        List<String> resumed = readWatch("/v1/watch?prefix=watch/&fromRevision=" + (start + 2), 2);

        assertThat(events).containsExactly("put watch/a 1", "put watch/b 2", "delete watch/a ");
        assertThat(resumed).containsExactly("put watch/b 2", "delete watch/a ");
    }

    @Test
    void theCliReportsErrorsOnOneLineWithMeaningfulExitCodes() throws Exception {
        HerdCluster.CliResult put = cluster.cliAgainstCluster("kv", "put", "cli/k", "hello");
        HerdCluster.CliResult get = cluster.cliAgainstCluster("kv", "get", "cli/k");
        HerdCluster.CliResult missing = cluster.cliAgainstCluster("kv", "get", "cli/none");
        HerdCluster.CliResult conflict = cluster.cliAgainstCluster("kv", "cas", "cli/k", "0", "x");
        HerdCluster.CliResult usage = cluster.cliAgainstCluster("kv", "put");
        HerdCluster.CliResult json = cluster.cliAgainstCluster("kv", "get", "cli/k", "--output", "json");
        HerdCluster.CliResult list = cluster.cliAgainstCluster("server", "list");
        HerdCluster.CliResult unreachable = HerdCluster.cli("kv", "get", "x", "--endpoint", "127.0.0.1:1", "--token", "t");

        assertThat(put.exitCode()).isZero();
        assertThat(get.stdout().strip()).isEqualTo("hello");
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.stderr().strip()).startsWith("herd: ").doesNotContain("\n");
        assertThat(conflict.exitCode()).isEqualTo(4);
        assertThat(usage.exitCode()).isEqualTo(2);
        assertThat(json.stdout()).contains("\"modRevision\"");
        assertThat(list.stdout()).contains("ID", "NAME", "ENDPOINT", "STATE", "TERM", "INDEX", "COMMIT", "VOTE", "leader");
        assertThat(unreachable.exitCode()).isEqualTo(5);
    }

    @Test
    void aCrmConfigurationLoadsShowsBackIdenticallyAndBadOnesChangeNothing() throws Exception {
        Path seed = Path.of("src", "test", "resources", "nginx-mysql-drbd.crm").toAbsolutePath();
        HerdCluster.CliResult load = cluster.cliAgainstCluster("configure", "load", seed.toString());
        HerdCluster.CliResult show = cluster.cliAgainstCluster("configure", "show");
        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(show.stdout()).contains("primitive p_nginx lsb:nginx", "group", "location");

        HerdCluster.CliResult simulated = cluster.cliAgainstCluster("simulate");
        assertThat(simulated.exitCode()).as(simulated.toString()).isZero();
        assertThat(simulated.stdout()).contains("Transition Summary:", "s1");

        Path shown = root.resolve("shown.crm");
        Files.writeString(shown, show.stdout());
        HerdCluster.CliResult reload = cluster.cliAgainstCluster("configure", "load", shown.toString());
        assertThat(reload.exitCode()).as(reload.toString()).isZero();
        assertThat(cluster.cliAgainstCluster("configure", "show").stdout()).isEqualTo(show.stdout());

        Path broken = root.resolve("broken.crm");
        Files.writeString(broken, "primitive a ocf:heartbeat:Dummy\ncolocation c inf: a missing\n");
        HerdCluster.CliResult refused = cluster.cliAgainstCluster("configure", "load", broken.toString());
        HttpKv.Reply direct = client.send("PUT", "/v1/configuration", "{\"crm\":\"order o Mandatory: a b\\n\"}", cluster.adminToken());
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.stderr()).contains("missing").contains("nothing was applied");
        assertThat(direct.status()).isEqualTo(400);
        assertThat(cluster.cliAgainstCluster("configure", "show").stdout()).isEqualTo(show.stdout());
    }

    @Test
    void aBackupRestoresIntoANewClusterWithTheSameKeysRevisionsAndResourceConfiguration() throws Exception {
        Path seed = Path.of("src", "test", "resources", "nginx-mysql-drbd.crm").toAbsolutePath();
        HerdCluster.CliResult load = cluster.cliAgainstCluster("configure", "load", seed.toString());
        assertThat(load.exitCode()).as(load.toString()).isZero();
        String configuration = client.getJson("/v1/configuration").body().path("crm").asText();
        client.put("backup/a", "alpha");
        HttpKv.Reply b = client.put("backup/b", "beta");
        Path file = root.resolve("backup.json");

        HerdCluster.CliResult backup = cluster.cliAgainstCluster("backup", file.toString());
        assertThat(backup.exitCode()).as(backup.toString()).isZero();

        Path restoredData = root.resolve("restored");
        String address = "127.0.0.1:" + HerdCluster.freePortPair();
        HerdCluster.CliResult restore = HerdCluster.cli("restore", file.toString(), "--name", "r1", "--address", address,
            "--data", restoredData.toString());
        assertThat(restore.exitCode()).as(restore.toString()).isZero();
        Process restored = new ProcessBuilder(HerdCluster.javaBinary(), "-jar", HerdCluster.JAR.toString(), "agent", "--data",
            restoredData.toString()).redirectErrorStream(true)
            .redirectOutput(root.resolve("restored.log").toFile()).start();
        try {
            HttpKv restoredClient = new HttpKv(List.of(address), Files.readString(restoredData.resolve("admin.token")).trim());
            restoredClient.awaitLeader(TIMEOUT);
            HttpKv.Reply restoredB = awaitKey(restoredClient, "backup/b");
            assertThat(restoredB.value()).isEqualTo("beta");
            assertThat(restoredB.modRevision()).isEqualTo(b.modRevision());
            assertThat(restoredClient.get("backup/a").value()).isEqualTo("alpha");
            assertThat(restoredClient.put("backup/c", "gamma").revision()).isGreaterThan(b.revision());
            assertThat(configuration).contains("primitive p_nginx lsb:nginx");
            assertThat(restoredClient.getJson("/v1/configuration").body().path("crm").asText()).isEqualTo(configuration);
            assertThat(Files.readString(root.resolve("restored.log")))
                .contains("restore: resource configuration loaded", "nodes and 0 volumes", "restore: complete");
        } finally {
            restored.destroy();
            restored.waitFor();
        }
    }

    private static HttpKv.Reply awaitKey(HttpKv restoredClient, String key) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            HttpKv.Reply reply = restoredClient.get(key);
            if (reply.status() == 200) {
                return reply;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(key + " was not restored");
    }

    private static long revision() throws Exception {
        return client.getJson("/v1/status").body().path("revision").asLong();
    }

    /** Reads {@code count} change lines (skipping progress lines) as "type key value". */
    private static List<String> readWatch(String path, int count) throws Exception {
        HttpURLConnection connection = (HttpURLConnection) URI.create("http://" + cluster.endpoints().get(0) + path).toURL()
            .openConnection();
        connection.setRequestProperty("Authorization", "Bearer " + cluster.adminToken());
        connection.setReadTimeout(20_000);
        List<String> events = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(connection.getInputStream(), StandardCharsets.UTF_8))) {
            while (events.size() < count) {
                var event = HttpKv.JSON.readTree(lines.readLine());
                if (event.path("type").asText().equals("progress")) {
                    continue;
                }
                events.add(event.path("type").asText() + " " + event.path("kv").path("key").asText() + " "
                    + event.path("kv").path("value").asText());
            }
        } finally {
            connection.disconnect();
        }
        return events;
    }
}
