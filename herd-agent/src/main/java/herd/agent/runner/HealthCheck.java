package herd.agent.runner;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** The optional health checks of herd:process. A failed check is a reason, never an exception. */
public final class HealthCheck {

    /** One attempt never waits longer than this, so a start keeps retrying within its timeout. */
    public static final long ATTEMPT_TIMEOUT_MILLIS = 2_000;

    private static final HttpClient HTTP = HttpClient.newBuilder()
        .connectTimeout(Duration.ofMillis(ATTEMPT_TIMEOUT_MILLIS))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();

    private HealthCheck() {
    }

    /** Empty when every configured check passes, else why not. */
    public static Optional<String> failure(String checkTcp, String checkHttp) {
        if (checkTcp != null && !checkTcp.isEmpty()) {
            Optional<String> tcp = tcp(checkTcp);
            if (tcp.isPresent()) {
                return tcp;
            }
        }
        if (checkHttp != null && !checkHttp.isEmpty()) {
            return http(checkHttp);
        }
        return Optional.empty();
    }

    /** Checks that the parameters are well-formed; empty when they are. */
    public static Optional<String> invalid(String checkTcp, String checkHttp) {
        if (checkTcp != null && !checkTcp.isEmpty()) {
            try {
                hostAndPort(checkTcp);
            } catch (IllegalArgumentException e) {
                return Optional.of(e.getMessage());
            }
        }
        if (checkHttp != null && !checkHttp.isEmpty()) {
            try {
                URI uri = URI.create(checkHttp);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    return Optional.of("check_http '" + checkHttp + "' is not an http(s) URL such as http://127.0.0.1:8080/health");
                }
            } catch (IllegalArgumentException e) {
                return Optional.of("check_http '" + checkHttp + "' is not a URL: " + e.getMessage());
            }
        }
        return Optional.empty();
    }

    static Optional<String> tcp(String hostPort) {
        InetSocketAddress address = hostAndPort(hostPort);
        try (Socket socket = new Socket()) {
            socket.connect(address, (int) ATTEMPT_TIMEOUT_MILLIS);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("check_tcp " + hostPort + " failed: " + e.getMessage());
        }
    }

    static Optional<String> http(String url) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMillis(ATTEMPT_TIMEOUT_MILLIS)).GET().build();
            int status = HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            return status >= 200 && status < 400 ? Optional.empty()
                : Optional.of("check_http " + url + " answered " + status);
        } catch (IOException e) {
            return Optional.of("check_http " + url + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("check_http " + url + " interrupted");
        }
    }

    static InetSocketAddress hostAndPort(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("check_tcp '" + hostPort + "' must be host:port, e.g. 127.0.0.1:8080");
        }
        String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
        try {
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("check_tcp '" + hostPort + "' has no valid port (1-65535), e.g. 127.0.0.1:8080");
        }
    }
}
