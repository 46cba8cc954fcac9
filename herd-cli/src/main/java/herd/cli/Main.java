package herd.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code herd} command. */
@Command(name = "herd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"herd: one program for high availability.",
        "A Raft-replicated control plane with a linearizable key-value store; Pacemaker-compatible resources",
        "with monitoring, fencing and quorum; replicated block storage served over NBD.", "",
        "Start here: 'herd demo' runs a local 3-server cluster; docs/operations.md explains real ones."},
    footer = {"", "Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 unavailable, 6 unauthorized."})
public final class Main {
    /** The subcommands, in the order the help lists them. */
    private static final List<Class<?>> COMMANDS = List.of(InitCommand.class, AgentCommand.class, JoinCommand.class,
        StatusCommand.class, ServerCommands.class, NodeCommands.class, ResourceCommands.class, ConstraintCommands.class,
        FenceCommand.class, VolumeCommands.class, StorageCommands.class, KvCommands.class, ConfigureCommands.class,
        ConfigureCommands.Import.class, BackupCommand.class, RestoreCommand.class, SimulateCommand.class,
        DemoCommand.class, CommandLine.HelpCommand.class);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        return run(null, null, args);
    }

    /** Runs one command writing to {@code out} and {@code err} (null: standard output, standard error), as tests do. */
    static int run(PrintWriter out, PrintWriter errors, String... args) {
        CommandLine commandLine = commandLine(args.length > 0 ? args[0] : null);
        if (out != null) {
            commandLine.setOut(out);
        }
        if (errors != null) {
            commandLine.setErr(errors);
        }
        commandLine.setExecutionExceptionHandler(Main::oneLineError);
        commandLine.setParameterExceptionHandler((e, argv) -> {
            // One line, like every other error, so that scripts can log it as it is.
            PrintWriter err = e.getCommandLine().getErr();
            err.println("herd: " + e.getMessage().strip().replaceAll("\\s*\\R\\s*", "; ")
                + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return ExitCode.USAGE;
        });
        return commandLine.execute(args);
    }

    /**
     * The command line for arguments that start with {@code first}: with only that subcommand when
     * it names one (other than help), with all of them otherwise (the help, a mistyped name and its
     * suggestions need them all). picocli builds a command's model by reflection when it is added,
     * and building all of them took about 0.2 s of every CLI command's start.
     */
    static CommandLine commandLine(String first) {
        CommandLine commandLine = new CommandLine(new Main());
        Class<?> named = COMMANDS.stream()
            .filter(command -> command != CommandLine.HelpCommand.class && namesOf(command).contains(first))
            .findFirst().orElse(null);
        for (Class<?> command : COMMANDS) {
            if (named == null || command == named) {
                commandLine.addSubcommand(command);
            }
        }
        addHelpOptions(commandLine);
        return commandLine;
    }

    private static List<String> namesOf(Class<?> command) {
        Command annotation = command.getAnnotation(Command.class);
        return Stream.concat(Stream.of(annotation.name()), Arrays.stream(annotation.aliases())).toList();
    }

    /** Every command and subcommand answers -h/--help with its own usage (errors point there). */
    private static void addHelpOptions(CommandLine commandLine) {
        commandLine.getCommandSpec().mixinStandardHelpOptions(true);
        commandLine.getSubcommands().values().forEach(Main::addHelpOptions);
    }

    private static int oneLineError(Exception e, CommandLine commandLine, CommandLine.ParseResult parsed) {
        PrintWriter err = commandLine.getErr();
        if (e instanceof CliException cli) {
            err.println("herd: " + cli.getMessage());
            err.flush();
            return cli.exitCode();
        }
        if (e instanceof IllegalArgumentException) {
            err.println("herd: " + e.getMessage());
            err.flush();
            return ExitCode.USAGE;
        }
        err.println("herd: " + e);
        err.flush();
        return ExitCode.FAILURE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"herd " + (version == null ? "development build" : version)};
        }
    }
}
