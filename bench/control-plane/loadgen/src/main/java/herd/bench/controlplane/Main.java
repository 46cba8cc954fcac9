package herd.bench.controlplane;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The control-plane load generator; bench/control-plane/run drives it, one system at a time. */
@Command(name = "loadgen", mixinStandardHelpOptions = true,
        subcommands = {Main.WaitHealthy.class, Main.Workloads.class, Main.Failover.class, Main.ReportCommand.class},
        description = "Drives a 3-member herd or etcd cluster: puts, linearizable reads, leader failover.")
public final class Main {

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            System.err.println("loadgen: " + e.getMessage());
            return 1;
        });
        System.exit(commandLine.execute(args));
    }

    /** Options every command that talks to a cluster shares. */
    static final class Target {
        @Option(names = "--system", required = true, description = "herd or etcd")
        String system;

        @Option(names = "--members", required = true,
                description = "NAME=HOST:PORT,... of the client addresses, e.g. s1=127.0.0.1:2379,s2=127.0.0.1:2479")
        String members;

        @Option(names = "--token-file", description = "herd only: file holding the admin token (DATA/admin.token)")
        Path tokenFile;

        @Option(names = "--value-bytes", defaultValue = "256", description = "value size in bytes (default ${DEFAULT-VALUE})")
        int valueBytes;

        @Option(names = "--out", description = "results file (tab-separated) to append to")
        Path out;

        Path resultsFile() {
            if (out == null) {
                throw new IllegalArgumentException("this command needs --out FILE, the results file to append to");
            }
            return out;
        }

        List<Member> memberList() {
            return Member.parseList(members);
        }

        byte[] value() {
            return Keys.randomValue(valueBytes, 42);
        }

        KvSystem open(Duration requestTimeout) throws Exception {
            return switch (system) {
                case "etcd" -> new EtcdSystem(requestTimeout);
                case "herd" -> new HerdSystem(readToken(), requestTimeout);
                default -> throw new IllegalArgumentException("--system " + system + " is unknown; use herd or etcd");
            };
        }

        private String readToken() throws Exception {
            if (tokenFile == null) {
                throw new IllegalArgumentException("--system herd needs --token-file DATA/admin.token (written by 'herd init')");
            }
            if (!Files.isReadable(tokenFile)) {
                throw new IllegalArgumentException("token file " + tokenFile + " does not exist or is not readable");
            }
            return Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
        }
    }

    @Command(name = "wait-healthy", mixinStandardHelpOptions = true,
            description = "Waits until every member serves a linearizable read and a leader is known.")
    static final class WaitHealthy implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--timeout-seconds", defaultValue = "60")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            try (KvSystem system = target.open(Duration.ofSeconds(5))) {
                HealthWait.untilHealthy(system, target.memberList(), Duration.ofSeconds(timeoutSeconds));
                System.out.println(system.label() + " cluster is healthy; leader " + system.leaderName(target.memberList()));
            }
            return 0;
        }
    }

    @Command(name = "workloads", mixinStandardHelpOptions = true,
            description = "Runs closed-loop workloads one after the other and appends their results.")
    static final class Workloads implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--workloads", defaultValue = "put:1,put:16,put:64,get:1,get:64",
                description = "KIND:CLIENTS,... (default ${DEFAULT-VALUE})")
        String workloads;

        @Option(names = "--warmup-seconds", defaultValue = "3", description = "unmeasured start of each workload")
        int warmupSeconds;

        @Option(names = "--measure-seconds", defaultValue = "10", description = "measured part of each workload")
        int measureSeconds;

        @Option(names = "--server-warmup-seconds", defaultValue = "60",
                description = "unrecorded puts (16 clients) before the first workload (default ${DEFAULT-VALUE})")
        int serverWarmupSeconds;

        @Option(names = "--read-keys", defaultValue = "100", description = "keys preloaded for the get workloads")
        int readKeys;

        @Option(names = "--request-timeout-ms", defaultValue = "10000", description = "a request slower than this fails")
        long requestTimeoutMillis;

        @Override
        public Integer call() throws Exception {
            List<Workload> list = Workload.parseList(workloads);
            try (KvSystem system = target.open(Duration.ofMillis(requestTimeoutMillis))) {
                WorkloadRunner runner = new WorkloadRunner(system, target.memberList(), Duration.ofSeconds(warmupSeconds),
                        Duration.ofSeconds(measureSeconds), target.value(), readKeys, new AtomicLong());
                ResultsFile.appendSetting(target.resultsFile(), "warmupSeconds", Integer.toString(warmupSeconds));
                ResultsFile.appendSetting(target.resultsFile(), "measureSeconds", Integer.toString(measureSeconds));
                ResultsFile.appendSetting(target.resultsFile(), "serverWarmupSeconds", Integer.toString(serverWarmupSeconds));
                runner.warmUpServers(Duration.ofSeconds(serverWarmupSeconds));
                if (list.stream().anyMatch(w -> w.kind() == Workload.Kind.GET)) {
                    runner.preloadReadKeys();
                }
                for (Workload workload : list) {
                    WorkloadResult r = runner.run(workload);
                    System.out.printf(Locale.ROOT, "%s %-28s %9.0f ops/s  p50 %7.2f ms  p99 %7.2f ms  failed %d%s%n",
                            system.label(), workload.label(), r.opsPerSecond(), r.p50Millis(), r.p99Millis(), r.failedOps(),
                            r.firstFailure() == null ? "" : " (first: " + r.firstFailure() + ")");
                    ResultsFile.appendWorkload(target.resultsFile(), r);
                }
            }
            return 0;
        }
    }

    @Command(name = "failover", mixinStandardHelpOptions = true,
            description = "Kills the leader (kill -9) and times the first acknowledged write through a survivor.")
    static final class Failover implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--trials", defaultValue = "5")
        int trials;

        @Option(names = "--pid-dir", required = true, description = "directory holding NAME.pid for every member")
        Path pidDirectory;

        @Option(names = "--restart-command", required = true,
                description = "shell command that restarts a killed member; {name} is replaced by its name")
        String restartCommand;

        @Option(names = "--attempt-interval-ms", defaultValue = "10", description = "a new write on every survivor this often")
        long attemptIntervalMillis;

        @Option(names = "--attempt-timeout-ms", defaultValue = "1000", description = "a write not acknowledged by then is abandoned")
        long attemptTimeoutMillis;

        @Option(names = "--max-in-flight", defaultValue = "128", description = "writes outstanding per survivor at most")
        int maxInFlight;

        @Option(names = "--give-up-seconds", defaultValue = "30", description = "a trial with no acknowledged write by then fails")
        int giveUpSeconds;

        @Option(names = "--health-timeout-seconds", defaultValue = "60", description = "wait this long for all members to serve reads")
        int healthTimeoutSeconds;

        @Override
        public Integer call() throws Exception {
            if (trials < 1) {
                throw new IllegalArgumentException("--trials " + trials + ": run at least 1 trial");
            }
            FailoverBench.Settings settings = new FailoverBench.Settings(Duration.ofMillis(attemptIntervalMillis),
                    Duration.ofMillis(attemptTimeoutMillis), maxInFlight, Duration.ofSeconds(giveUpSeconds),
                    Duration.ofSeconds(healthTimeoutSeconds));
            Path out = target.resultsFile();
            ResultsFile.appendSetting(out, "failoverAttemptIntervalMillis", Long.toString(attemptIntervalMillis));
            ResultsFile.appendSetting(out, "failoverAttemptTimeoutMillis", Long.toString(attemptTimeoutMillis));
            ResultsFile.appendSetting(out, "failoverMaxInFlightPerSurvivor", Integer.toString(maxInFlight));
            try (KvSystem system = target.open(settings.attemptTimeout());
                 KvSystem control = target.open(Duration.ofSeconds(5))) {
                FailoverBench bench = new FailoverBench(system, control, target.memberList(), pidDirectory, restartCommand,
                        settings, target.value(), System.out);
                for (FailoverBench.TrialResult result : bench.run(trials)) {
                    ResultsFile.appendFailover(target.resultsFile(), result);
                }
            }
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Writes herd's and etcd's results side by side as Markdown (and prints it).")
    static final class ReportCommand implements Callable<Integer> {
        @Option(names = "--etcd", description = "etcd's results file; leave out when etcd was not measured")
        Path etcdResults;

        @Option(names = "--herd", description = "herd's results file; leave out when herd was not measured")
        Path herdResults;

        @Option(names = "--machine", required = true, description = "file with one 'what: value' line per machine fact")
        Path machineFile;

        @Option(names = "--command", required = true, description = "the command that reproduces the run")
        String reproduceCommand;

        @Option(names = "--out", required = true, description = "Markdown file to write")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (herdResults == null && etcdResults == null) {
                throw new IllegalArgumentException("give --herd FILE, --etcd FILE or both: there is nothing to report");
            }
            ResultsFile.Contents herd = herdResults == null ? null : ResultsFile.read(herdResults);
            ResultsFile.Contents etcd = etcdResults == null ? null : ResultsFile.read(etcdResults);
            String measuredAt = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
            String markdown = Report.markdown(herd, etcd,
                    Files.readAllLines(machineFile, StandardCharsets.UTF_8), reproduceCommand, measuredAt);
            Files.writeString(out, markdown, StandardCharsets.UTF_8);
            System.out.print(markdown);
            return 0;
        }
    }
}
