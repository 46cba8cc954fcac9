package herd.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "demo", description = {"Run a local 3-server cluster on 127.0.0.1 until Ctrl-C.",
    "Real processes and real Raft logs; prints its status and how to talk to it, and stops it cleanly",
    "on Ctrl-C."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "demo-data",
        description = "Where the servers keep their data and logs (default: ${DEFAULT-VALUE}); reused when it exists.")
    Path dir;
    @Option(names = "--base-port", paramLabel = "PORT", defaultValue = "7100",
        description = "s1 listens on PORT (API) and PORT+1 (Raft), s2 on PORT+10, s3 on PORT+20 (default: ${DEFAULT-VALUE}).")
    int basePort;
    @Option(names = "--exit-after-start", hidden = true, description = "Start, print, and stop at once (for tests).")
    boolean exitAfterStart;
    @Spec CommandSpec spec;

    private final List<Process> servers = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Files.createDirectories(dir);
        Path root = dir.toAbsolutePath();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "herd-demo-stop"));
        boolean fresh = !Files.exists(root.resolve("s1/node.json"));
        if (fresh) {
            out.println("Creating a 3-server cluster in " + root);
            run("init", "--name", "s1", "--address", address(0), "--data", root.resolve("s1").toString(), "--cluster-name", "demo");
        } else {
            out.println("Restarting the cluster in " + root);
        }
        out.flush();
        servers.add(start(root, 0, fresh));
        awaitHealthy(address(0));
        for (int i = 1; i < 3; i++) {
            servers.add(start(root, i, fresh));
            if (fresh) {
                awaitHealthy(address(i));
                run("server", "add", "s" + (i + 1), address(i), "--data", root.resolve("s1").toString());
            }
        }
        for (int i = 1; i < 3; i++) {
            awaitHealthy(address(i));
        }
        out.println();
        run("status", "--endpoint", String.join(",", address(0), address(1), address(2)), "--data", root.resolve("s1").toString());
        out.println();
        out.println("Talk to it from another terminal:");
        out.println("  export HERD_ENDPOINT=" + address(0) + "," + address(1) + "," + address(2));
        out.println("  export HERD_TOKEN_FILE=" + root.resolve("s1/admin.token"));
        out.println("  bin/herd kv put greeting hello && bin/herd kv get greeting");
        out.println("  bin/herd server list");
        out.println("Logs: " + root + "/s*.log. Press Ctrl-C to stop the cluster (the data stays for the next run).");
        out.flush();
        if (exitAfterStart) {
            return ExitCode.OK;
        }
        new CountDownLatch(1).await();
        return ExitCode.OK;
    }

    private String address(int index) {
        return "127.0.0.1:" + (basePort + 10 * index);
    }

    private Process start(Path root, int index, boolean fresh) throws IOException, URISyntaxException {
        String name = "s" + (index + 1);
        List<String> command = new ArrayList<>(selfCommand());
        command.addAll(List.of("agent", "--data", root.resolve(name).toString()));
        if (index > 0 && fresh) {
            command.addAll(List.of("--join", "--name", name, "--address", address(index),
                "--secret-file", root.resolve("s1/cluster.secret").toString()));
        }
        return new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(name + ".log").toFile()))
            .start();
    }

    /** Runs another herd subcommand in this process, failing the demo if it fails. */
    private void run(String... args) {
        int exit = Main.run(args);
        if (exit != 0) {
            throw new CliException(exit, "'herd " + String.join(" ", args) + "' failed; see the logs in " + dir);
        }
    }

    private void awaitHealthy(String address) throws InterruptedException {
        ApiClient client = new ApiClient(List.of(address), null);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                ApiClient.Response health = client.get("/v1/health");
                if (health.ok()) {
                    return;
                }
            } catch (CliException e) {
                // not up yet
            }
            for (Process server : servers) {
                if (!server.isAlive()) {
                    throw new CliException(ExitCode.FAILURE, "a server exited during start-up; see the logs in " + dir);
                }
            }
            Thread.sleep(200);
        }
        throw new CliException(ExitCode.UNAVAILABLE, address + " did not come up within 60 s; see the logs in " + dir);
    }

    private void stopAll() {
        for (Process server : servers) {
            server.destroy();
        }
        for (Process server : servers) {
            try {
                server.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!servers.isEmpty()) {
            System.err.println("herd demo: stopped " + servers.size() + " servers");
        }
        servers.clear();
    }

    /** The java binary, JVM options and jar this process runs with, so child servers run the same herd the same way. */
    static List<String> selfCommand() throws URISyntaxException {
        String javaBinary = ProcessHandle.current().info().command().orElse("java");
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> command = new ArrayList<>(List.of(javaBinary));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-jar", jar.toString()));
        return command;
    }

}
