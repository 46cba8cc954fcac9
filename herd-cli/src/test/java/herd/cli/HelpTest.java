package herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Every command answers --help with its own usage, as the one-line usage errors promise. */
class HelpTest {

    private record Run(int exitCode, String out, String err) {}

    private static Run herd(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void subcommandsAnswerHelpWithTheirUsage() {
        Run create = herd("volume", "create", "--help");
        assertThat(create.exitCode()).isZero();
        assertThat(create.out()).contains("Usage: herd volume create").contains("--copies");
        Run group = herd("volume", "--help");
        assertThat(group.exitCode()).isZero();
        assertThat(group.out()).contains("Usage: herd volume").contains("snapshot");
        assertThat(herd("storage", "status", "-h").out()).contains("Usage: herd storage status");
    }

    /** The commands are built only when named first; the help and the help command still know them all. */
    @Test
    void theHelpListsEveryCommand() {
        String help = herd("--help").out();
        for (String command : java.util.List.of("init", "agent", "join", "status", "server", "node", "resource", "constraint",
                "fence", "volume", "storage", "kv", "configure", "import", "backup", "restore", "simulate", "demo", "help")) {
            assertThat(help).as("herd --help").containsPattern("(?m)^  " + command + " ");
        }
        assertThat(herd("help", "volume").out()).contains("Usage: herd volume");
        assertThat(herd("volume", "list", "--help").out()).contains("Usage: herd volume list");
    }

    /** A command list shows each subcommand's first description line, so that line must be a whole sentence. */
    @Test
    void everyCommandListShowsWholeSentences() {
        java.util.List<String> cut = new java.util.ArrayList<>();
        collectCutSummaries(Main.commandLine(null), cut);
        assertThat(cut).as("first description lines that stop mid-sentence").isEmpty();
    }

    private static void collectCutSummaries(picocli.CommandLine command, java.util.List<String> cut) {
        String[] description = command.getCommandSpec().usageMessage().description();
        if (description.length > 0 && !description[0].strip().matches("(?s).*[.:)]$")) {
            cut.add(command.getCommandSpec().qualifiedName() + ": " + description[0]);
        }
        command.getSubcommands().values().forEach(sub -> collectCutSummaries(sub, cut));
    }

    @Test
    void aUsageErrorPointsToAHelpThatWorks() {
        Run missing = herd("volume", "create");
        assertThat(missing.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(missing.err().strip()).startsWith("herd: ").endsWith("(see 'herd volume create --help')").doesNotContain("\n");
        assertThat(herd("volume", "create", "--help").exitCode()).isZero();
    }
}
