package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd constraint ...}: location, colocation, order and ticket constraints, one at a time. */
@Command(name = "constraint", description = "Add, remove and list constraints (location, colocation, order, rsc_ticket).",
    subcommands = {ConstraintCommands.Add.class, ConstraintCommands.Remove.class, ConstraintCommands.ListConstraints.class})
final class ConstraintCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Command(name = "add", description = {"Add constraints from crm shell statements.", "",
        "Examples: herd constraint add 'location web-likes-n1 web 100: n1'",
        "          herd constraint add 'colocation web-with-ip INFINITY: web ip'",
        "          herd constraint add 'order ip-then-web Mandatory: ip web'"})
    static final class Add implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "STATEMENT", arity = "0..*", description = "The statement(s), quoted.")
        List<String> words;
        @Option(names = "--file", paramLabel = "FILE", description = "Read the statements from FILE instead.")
        Path file;

        @Override
        public Integer call() {
            String text = ResourceCommands.statementText(words, file, "constraint");
            ResourceCommands.printResult(options, spec,
                Failures.check(options.client().post("/v1/constraints", JSON.createObjectNode().put("crm", text))).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "remove", description = "Remove a constraint by its id ('herd constraint list' shows them).")
    static final class Remove implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Parameters(index = "0", paramLabel = "ID") String id;

        @Override
        public Integer call() {
            ResourceCommands.printResult(options, spec,
                Failures.check(options.client().delete("/v1/constraints/" + ResourceCommands.segment(id))).body());
            return ExitCode.OK;
        }
    }

    @Command(name = "list", description = "Show every constraint: ID KIND and its statement in crm shell syntax.")
    static final class ListConstraints implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get("/v1/constraints")).body();
            PrintWriter out = spec.commandLine().getOut();
            if (options.json()) {
                out.println(body.toPrettyString());
                out.flush();
                return ExitCode.OK;
            }
            Table table = new Table("ID", "KIND", "CONSTRAINT");
            for (JsonNode constraint : body.path("constraints")) {
                table.row(constraint.path("id").asText(), constraint.path("kind").asText(), constraint.path("crm").asText());
            }
            table.print(out);
            return ExitCode.OK;
        }
    }
}
