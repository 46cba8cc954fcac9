package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import herd.scheduler.cib.CibXml;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Validator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd configure load|show}: the resource configuration in crm shell syntax. */
@Command(name = "configure", description = "Load or show the resource configuration (crm shell syntax: primitive, group, clone, ms, location, colocation, order, property, rsc_defaults).",
    subcommands = {ConfigureCommands.Load.class, ConfigureCommands.Show.class})
final class ConfigureCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses and validates locally first, so a mistake is reported with its line before anything is sent. */
    static String checked(String crmText, String source) {
        try {
            Validator.requireValid(CrmShell.parse(crmText));
            return crmText;
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, source + ": " + e.getMessage() + " (nothing was applied)");
        }
    }

    static void put(ClientOptions options, CommandSpec spec, String crmText) {
        JsonNode reply = Failures.check(options.client().put("/v1/configuration", JSON.createObjectNode().put("crm", crmText))).body();
        spec.commandLine().getOut().println(reply.path("result").asText());
        spec.commandLine().getOut().flush();
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException(ExitCode.USAGE, "cannot read " + file + ": " + e.getMessage());
        }
    }

    @Command(name = "load", description = {"Replace the resource configuration with the one in FILE (crm shell syntax).",
        "Typographic quotes are accepted. A mistake is reported with its line and nothing is applied."})
    static final class Load implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Parameters(index = "0", paramLabel = "FILE") Path file;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            put(options, spec, checked(read(file), file.toString()));
            return ExitCode.OK;
        }
    }

    @Command(name = "show", description = "Print the resource configuration in crm shell syntax ('configure load' reads it back).")
    static final class Show implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get("/v1/configuration")).body();
            spec.commandLine().getOut().print(options.json() ? body.toPrettyString() + "\n" : body.path("crm").asText());
            spec.commandLine().getOut().flush();
            return ExitCode.OK;
        }
    }

    /** {@code herd import cib FILE}: the configuration section of a Pacemaker CIB. */
    @Command(name = "import", description = "Import configuration from another tool.", subcommands = ImportCib.class)
    static final class Import {
    }

    @Command(name = "cib", description = {"Replace the resource configuration with a Pacemaker CIB's configuration section.",
        "For example from 'cibadmin -Q'. Problems are reported and nothing is applied."})
    static final class ImportCib implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Parameters(index = "0", paramLabel = "FILE.xml") Path file;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            Configuration configuration;
            try {
                configuration = Validator.requireValid(CibXml.parseConfiguration(read(file)));
            } catch (IllegalArgumentException e) {
                throw new CliException(ExitCode.USAGE, file + ": " + e.getMessage() + " (nothing was applied)");
            }
            put(options, spec, CrmShell.format(configuration));
            return ExitCode.OK;
        }
    }
}
