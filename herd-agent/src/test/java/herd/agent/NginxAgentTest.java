package herd.agent;

import static herd.agent.TestSupport.WAIT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nginx under resource-agents' ocf:heartbeat:nginx, with its own config, port and pid file. */
class NginxAgentTest {

    private static final long TIMEOUT_MILLIS = 30_000;

    @TempDir
    Path temp;

    @org.junit.jupiter.api.AfterEach
    void stopALeftoverNginx() throws Exception {
        // Only if the test failed before its stop: nginx runs as a daemon in its own session.
        Path pidFile = temp.resolve("nginx.pid");
        if (Files.exists(pidFile)) {
            herd.agent.exec.ProcessGroups.killGroup(Long.parseLong(Files.readString(pidFile).strip()), 5_000);
        }
    }

    @Test
    void startMonitorServeStop() throws Exception {
        int port = TestSupport.freePort();
        Path www = Files.createDirectories(temp.resolve("www"));
        Files.writeString(www.resolve("index.html"), "served by nginx under herd\n");
        // nginx's workers run as an unprivileged user; the temporary directory is private by default.
        Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path config = temp.resolve("nginx.conf");
        Files.writeString(config, """
            pid %1$s/nginx.pid;
            error_log %1$s/error.log;
            worker_processes 1;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path %1$s/body;
                proxy_temp_path %1$s/proxy;
                fastcgi_temp_path %1$s/fastcgi;
                server {
                    listen 127.0.0.1:%2$d;
                    root %3$s;
                    location /nginx_status { stub_status; allow 127.0.0.1; deny all; }
                }
            }
            """.formatted(temp, port, www));
        // Pacemaker's OCF_CHECK_LEVEL 10 makes the agent fetch status10url, so monitor proves nginx answers.
        Map<String, String> params = Map.of("configfile", config.toString(), "httpd", "/usr/sbin/nginx",
            "status10url", "http://127.0.0.1:" + port + "/nginx_status");
        Map<String, String> deepMonitor = new java.util.HashMap<>(params);
        deepMonitor.put("OCF_CHECK_LEVEL", "10");
        AgentId nginx = AgentId.parse("ocf:heartbeat:nginx");

        try (Executor executor = new Executor(TestSupport.settings("node1", temp.resolve("run")))) {
            OperationResult probe = executor.execute(new OperationRequest("web", nginx, "monitor", 0, TIMEOUT_MILLIS, params))
                .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(probe.rc()).as(probe.toString()).isEqualTo(7);
            OperationResult start = executor.execute(new OperationRequest("web", nginx, "start", 0, TIMEOUT_MILLIS, params))
                .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(start.rc()).as(start.toString()).isZero();
            OperationResult monitor = executor.execute(new OperationRequest("web", nginx, "monitor", 10_000, TIMEOUT_MILLIS, deepMonitor))
                .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(monitor.rc()).as(monitor.toString()).isZero();

            Map<String, String> wrongStatusUrl = new java.util.HashMap<>(deepMonitor);
            wrongStatusUrl.put("status10url", "http://127.0.0.1:" + port + "/missing");
            OperationResult failing = executor.execute(new OperationRequest("web", nginx, "monitor", 10_000, TIMEOUT_MILLIS,
                wrongStatusUrl)).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(failing.rc()).as("a deep monitor that cannot read the status page").isNotZero();

            HttpResponse<String> page = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/index.html")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).isEqualTo("served by nginx under herd\n");

            OperationResult stop = executor.execute(new OperationRequest("web", nginx, "stop", 0, TIMEOUT_MILLIS, params))
                .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(stop.rc()).as(stop.toString()).isZero();
            OperationResult after = executor.execute(new OperationRequest("web", nginx, "monitor", 0, TIMEOUT_MILLIS, params))
                .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(after.rc()).isEqualTo(7);
            assertThat(temp.resolve("nginx.pid")).doesNotExist();
        }
    }
}
