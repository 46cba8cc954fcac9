package herd.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a node's HTTP API on the loopback: canned answers by "METHOD path" (or, first,
 * "METHOD path?query"), requests recorded.
 */
final class FakeApi implements AutoCloseable {
    record Answer(int status, String json) {}

    record Request(String method, String path, String authorization, String body) {}

    record Run(int exitCode, String out, String err) {}

    private final HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    FakeApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String key = exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath();
            requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                exchange.getRequestHeaders().getFirst("Authorization"), body));
            String query = exchange.getRequestURI().getRawQuery();
            Answer answer = query == null ? null : answers.get(key + "?" + query); // an answer for this query first
            if (answer == null) {
                answer = answers.getOrDefault(key,
                    new Answer(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such path: " + key + "\"}}"));
            }
            byte[] bytes = answer.json().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer.status(), bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    FakeApi answer(String methodAndPath, int status, String json) {
        answers.put(methodAndPath, new Answer(status, json));
        return this;
    }

    String endpoint() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Runs {@code herd ARGS --endpoint this --token t}, capturing what it prints. */
    Run herd(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
            java.util.stream.Stream.of("--endpoint", endpoint(), "--token", "t")).toArray(String[]::new);
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(code, out.toString(), err.toString());
    }

    Request last(String method, String path) {
        for (int i = requests.size() - 1; i >= 0; i--) {
            Request request = requests.get(i);
            if (request.method().equals(method) && request.path().equals(path)) {
                return request;
            }
        }
        throw new AssertionError("no " + method + " " + path + " among " + requests);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
