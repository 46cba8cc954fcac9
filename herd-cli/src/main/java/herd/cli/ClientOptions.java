package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * How a client command finds the cluster. In order: --endpoint/--token flags, then the
 * HERD_ENDPOINT/HERD_TOKEN/HERD_TOKEN_FILE variables, then a node's data directory (--data or
 * HERD_DATA), whose node.json names the API address and whose admin.token holds the token.
 */
public final class ClientOptions {
    @Option(names = "--endpoint", paramLabel = "HOST:PORT[,HOST:PORT...]",
        description = "API address(es) of any node; tried in order. Env: HERD_ENDPOINT.")
    String endpoint;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Admin token. Env: HERD_TOKEN.")
    String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "File holding the admin token. Env: HERD_TOKEN_FILE.")
    Path tokenFile;

    @Option(names = "--data", paramLabel = "DIR",
        description = "Data directory of a node on this machine: its address and admin token are read from there. Env: HERD_DATA.")
    Path dataDir;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
        description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    OutputFormat output;

    public enum OutputFormat { table, json }

    public ApiClient client() {
        return new ApiClient(endpoints(), resolveToken());
    }

    public boolean json() {
        return output == OutputFormat.json;
    }

    List<String> endpoints() {
        String list = firstNonBlank(endpoint, System.getenv("HERD_ENDPOINT"));
        if (list != null) {
            return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        }
        JsonNode config = nodeConfig();
        List<String> found = new ArrayList<>();
        if (config != null) {
            found.add(config.path("apiAddress").asText());
        }
        return found;
    }

    String resolveToken() {
        String direct = firstNonBlank(token, System.getenv("HERD_TOKEN"));
        if (direct != null) {
            return direct;
        }
        Path file = tokenFile != null ? tokenFile : pathFromEnv("HERD_TOKEN_FILE");
        if (file == null) {
            Path data = dataDirectory();
            file = data == null ? null : data.resolve("admin.token");
        }
        if (file == null) {
            return null;
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new CliException(ExitCode.UNAUTHORIZED, "cannot read the token from " + file + " (" + e.getMessage()
                + "): give --token or --token-file");
        }
    }

    private JsonNode nodeConfig() {
        Path data = dataDirectory();
        if (data == null) {
            return null;
        }
        Path config = data.resolve("node.json");
        try {
            return new ObjectMapper().readTree(config.toFile());
        } catch (IOException e) {
            throw new CliException(ExitCode.USAGE, "cannot read " + config + " (" + e.getMessage()
                + "): is --data the data directory of a herd node?");
        }
    }

    private Path dataDirectory() {
        return dataDir != null ? dataDir : pathFromEnv("HERD_DATA");
    }

    private static Path pathFromEnv(String name) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? null : Path.of(value);
    }

    private static String firstNonBlank(String a, String b) {
        if (a != null && !a.isBlank()) {
            return a;
        }
        return b != null && !b.isBlank() ? b : null;
    }
}
