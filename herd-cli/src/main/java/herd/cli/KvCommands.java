package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd kv ...}: the linearizable key-value store. */
@Command(name = "kv", description = "Read and write the cluster's linearizable key-value store (etcd-like; see docs/kv.md).",
    subcommands = {KvCommands.Put.class, KvCommands.Get.class, KvCommands.Del.class, KvCommands.Cas.class,
        KvCommands.Ls.class, KvCommands.Watch.class})
public final class KvCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Percent-encodes a key for the URL path, keeping '/' readable. */
    static String keyPath(String key) {
        return "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/");
    }

    static String query(String name, String value) {
        return name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    abstract static class KvCommand implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        void printJson(JsonNode node) {
            try {
                out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
                out().flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        void printWrite(ApiClient.Response response) {
            if (options.json()) {
                printJson(response.body());
            } else {
                out().println("OK revision " + response.body().path("revision").asLong());
                out().flush();
            }
        }
    }

    abstract static class ValueCommand extends KvCommand {
        @Option(names = "--file", paramLabel = "FILE", description = "Read the value from FILE ('-' for standard input) instead of the argument.")
        Path file;

        ObjectNode valueBody(String argument) {
            ObjectNode body = JSON.createObjectNode();
            if (file == null) {
                if (argument == null) {
                    throw new CliException(ExitCode.USAGE, "give the value as an argument, or --file FILE ('-' reads standard input)");
                }
                return body.put("value", argument);
            }
            if (argument != null) {
                throw new CliException(ExitCode.USAGE, "give the value either as an argument or with --file, not both");
            }
            try {
                byte[] bytes = file.toString().equals("-") ? System.in.readAllBytes() : Files.readAllBytes(file);
                return body.put("valueBase64", Base64.getEncoder().encodeToString(bytes));
            } catch (IOException e) {
                throw new CliException(ExitCode.USAGE, "cannot read " + file + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "put", description = "Write KEY = VALUE. Prints the new cluster revision.")
    static final class Put extends ValueCommand {
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Parameters(index = "1", paramLabel = "VALUE", arity = "0..1") String value;

        @Override
        public Integer call() {
            printWrite(Failures.check(options.client().put(keyPath(key), valueBody(value))));
            return ExitCode.OK;
        }
    }

    @Command(name = "cas", description = {"Compare-and-set: write KEY = VALUE only if the key's modRevision is EXPECTED.",
        "EXPECTED 0 means 'only if the key does not exist'. Exit code 4 when the key has moved on."})
    static final class Cas extends ValueCommand {
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Parameters(index = "1", paramLabel = "EXPECTED") long expectedRevision;
        @Parameters(index = "2", paramLabel = "VALUE", arity = "0..1") String value;

        @Override
        public Integer call() {
            ObjectNode body = valueBody(value).put("expectRevision", expectedRevision);
            printWrite(Failures.check(options.client().put(keyPath(key), body)));
            return ExitCode.OK;
        }
    }

    @Command(name = "get", description = "Print the value of KEY (exit code 3 if it does not exist).")
    static final class Get extends KvCommand {
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Option(names = "--local", description = "Read this node's copy (fast, possibly stale) instead of a linearizable read.")
        boolean local;

        @Override
        public Integer call() throws IOException {
            ApiClient.Response response = Failures.check(options.client().get(keyPath(key) + (local ? "?consistency=local" : "")));
            if (options.json()) {
                printJson(response.body());
                return ExitCode.OK;
            }
            JsonNode kv = response.body().path("kv");
            if (kv.has("value")) {
                out().println(kv.get("value").asText());
                out().flush();
            } else {
                System.out.write(Base64.getDecoder().decode(kv.path("valueBase64").asText()));
                System.out.flush();
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "del", aliases = "delete", description = "Delete KEY. Prints how many keys were deleted (0 or 1).")
    static final class Del extends KvCommand {
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Option(names = "--expect-revision", paramLabel = "N", description = "Delete only if the key's modRevision is N.")
        Long expectRevision;

        @Override
        public Integer call() {
            String path = keyPath(key) + (expectRevision == null ? "" : "?" + query("expectRevision", expectRevision.toString()));
            ApiClient.Response response = Failures.check(options.client().delete(path));
            if (options.json()) {
                printJson(response.body());
            } else {
                out().println("deleted " + response.body().path("deleted").asInt() + " revision " + response.body().path("revision").asLong());
                out().flush();
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "ls", aliases = "list", description = "List keys under PREFIX (all keys without one), in key order.")
    static final class Ls extends KvCommand {
        @Parameters(index = "0", paramLabel = "PREFIX", arity = "0..1", defaultValue = "") String prefix;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "At most N keys (default ${DEFAULT-VALUE}).")
        int limit;
        @Option(names = "--local", description = "Read this node's copy instead of a linearizable read.")
        boolean local;

        @Override
        public Integer call() {
            String path = "/v1/kv?" + query("prefix", prefix) + "&limit=" + limit + (local ? "&consistency=local" : "");
            JsonNode body = Failures.check(options.client().get(path)).body();
            if (options.json()) {
                printJson(body);
                return ExitCode.OK;
            }
            Table table = new Table("KEY", "MOD_REVISION", "VERSION", "VALUE");
            for (JsonNode kv : body.path("kvs")) {
                String value = kv.has("value") ? abbreviate(kv.get("value").asText()) : "(" + kv.path("valueBase64").asText().length() * 3 / 4 + " bytes)";
                table.row(kv.path("key").asText(), kv.path("modRevision").asLong(), kv.path("version").asLong(), value);
            }
            table.print(out());
            if (body.path("more").asBoolean()) {
                out().println("(more keys follow: raise --limit or narrow the prefix)");
                out().flush();
            }
            return ExitCode.OK;
        }

        private static String abbreviate(String value) {
            String oneLine = value.replace("\n", "\\n");
            return oneLine.length() > 60 ? oneLine.substring(0, 57) + "..." : oneLine;
        }
    }

    @Command(name = "watch", description = {"Print changes under PREFIX (or to one --key) as they happen, one per line.",
        "Resume after a disconnect with --from-revision <last seen + 1>. Stops on Ctrl-C."})
    static final class Watch extends KvCommand {
        @Parameters(index = "0", paramLabel = "PREFIX", arity = "0..1") String prefix;
        @Option(names = "--key", paramLabel = "KEY", description = "Watch exactly this key.") String key;
        @Option(names = "--from-revision", paramLabel = "N", description = "Start at revision N (default: the next change).") Long fromRevision;
        @Option(names = "--count", paramLabel = "N", description = "Stop after N changes.") Integer count;

        @Override
        public Integer call() throws IOException {
            if (key != null && prefix != null) {
                throw new CliException(ExitCode.USAGE, "give either a PREFIX or --key, not both");
            }
            String path = "/v1/watch?" + (key != null ? query("key", key) : query("prefix", prefix == null ? "" : prefix))
                + (fromRevision == null ? "" : "&fromRevision=" + fromRevision);
            int seen = 0;
            try (InputStream stream = options.client().stream(path);
                 BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    JsonNode event = JSON.readTree(line);
                    String type = event.path("type").asText();
                    if (event.has("error")) {
                        throw new CliException(ExitCode.FAILURE, event.get("error").path("message").asText());
                    }
                    if (type.equals("progress")) {
                        continue;
                    }
                    print(event);
                    if (count != null && ++seen >= count) {
                        break;
                    }
                }
            }
            return ExitCode.OK;
        }

        private void print(JsonNode event) {
            if (options.json()) {
                out().println(event.toString());
            } else {
                JsonNode kv = event.path("kv");
                String value = event.path("type").asText().equals("delete") ? ""
                    : " " + (kv.has("value") ? kv.get("value").asText() : "base64:" + kv.path("valueBase64").asText());
                out().println(event.path("revision").asLong() + " " + event.path("type").asText().toUpperCase() + " "
                    + kv.path("key").asText() + value);
            }
            out().flush();
        }
    }
}
