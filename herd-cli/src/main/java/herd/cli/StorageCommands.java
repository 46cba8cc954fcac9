package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import herd.server.storage.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code herd storage ...}: the replicated object store under the volumes: how many copies new
 * volumes keep, and every storage node's use and recovery (like Sheepdog's {@code dog node recovery}).
 */
@Command(name = "storage", description = "Replicated storage under the volumes: default copies, use and recovery of each node.",
    subcommands = {StorageCommands.Format.class, StorageCommands.Status.class})
final class StorageCommands {
    static final String STATUS_PATH = "/v1/storage/status";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UNITS = "KMGTPE";

    private StorageCommands() {}

    @Command(name = "format", description = {"Set the copies new volumes keep by default (at most the number of zones).",
        "Each copy is in another zone; volumes created with --copies N keep theirs."})
    static final class Format implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;
        @Option(names = "--copies", paramLabel = "N", required = true,
            description = "Copies of each object of new volumes, each in another zone.") int copies;

        @Override
        public Integer call() {
            if (copies < 1) {
                throw new CliException(ExitCode.USAGE, "--copies must be 1 or more, not " + copies);
            }
            JsonNode body = Failures.check(options.client().post("/v1/storage/format",
                JSON.createObjectNode().put("copies", copies))).body();
            PrintWriter out = spec.commandLine().getOut();
            if (options.json()) {
                out.println(pretty(body));
            } else {
                out.println(formatLine(body == null ? copies : body.path("defaultCopies").asInt(copies)));
            }
            out.flush();
            return ExitCode.OK;
        }
    }

    @Command(name = "status", description = {"Show every storage node's use and recovery (like 'dog node recovery').",
        "First the epoch, default copies and zones; then NODE ZONE STATE OBJECTS USED CAPACITY RECOVERY",
        "TO-GO RATE LEFT SCRUB; a node that does not answer shows 'unreachable'. SCRUB is the background",
        "check of the node's copies: its passes so far, or how far the current one is (HERD_SCRUB_INTERVAL)."})
    static final class Status implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get(STATUS_PATH)).body();
            PrintWriter out = spec.commandLine().getOut();
            if (options.json()) {
                out.println(pretty(body));
                out.flush();
            } else {
                printStatus(body, out);
            }
            return ExitCode.OK;
        }
    }

    static String formatLine(int copies) {
        return "volumes keep " + copies + (copies == 1 ? " copy" : " copies") + " by default";
    }

    /** The whole text of {@code herd storage status}: summary line, node table, totals when any. */
    static void printStatus(JsonNode status, PrintWriter out) {
        out.println(summary(status));
        Table table = new Table("NODE", "ZONE", "STATE", "OBJECTS", "USED", "CAPACITY", "RECOVERY", "TO-GO", "RATE", "LEFT",
            "SCRUB");
        for (JsonNode node : status.path("nodes")) {
            table.row((Object[]) nodeRow(node));
        }
        table.print(out);
        String totals = totals(status);
        if (!totals.isEmpty()) {
            out.println(totals);
        }
        out.flush();
    }

    /** {@code epoch 7, default copies 2, 3 zones}. */
    static String summary(JsonNode status) {
        int zones = status.path("zones").asInt();
        return "epoch " + status.path("epoch").asLong() + ", default copies " + status.path("defaultCopies").asInt() + ", "
            + zones + (zones == 1 ? " zone" : " zones");
    }

    /** One row of the status table for one entry of {@code nodes}. */
    static String[] nodeRow(JsonNode node) {
        String name = node.path("name").asText();
        String zone = node.path("zone").asText("-");
        String state = node.path("membership").asText("-");
        if (state.equals("MEMBER") && node.path("cutOffBy").size() > 0) {
            List<String> reporters = new ArrayList<>();
            node.path("cutOffBy").forEach(reporter -> reporters.add(reporter.asText()));
            state = "CUT OFF (" + String.join(", ", reporters) + " cannot reach it)";
        } else if (state.equals("MEMBER") && node.path("stall").isTextual()) {
            boolean out = node.has("inEpoch") && !node.path("inEpoch").asBoolean();
            String stall = "STORE STALLED (" + node.path("stall").asText() + ")";
            state = out ? "OUT, " + stall : stall + ", kept in: one node at a time is taken out";
        } else if (state.equals("MEMBER") && node.has("inEpoch") && !node.path("inEpoch").asBoolean()) {
            state = "MEMBER (not in epoch)";
        }
        JsonNode local = node.path("local");
        if (!local.isObject()) {
            long capacity = node.path("capacityBytes").asLong();
            return new String[] {name, zone, state, "-", "-", capacity > 0 ? Sizes.format(capacity) : "-", "unreachable", "-", "-", "-",
                "-"};
        }
        long objects = local.path("objects").asLong(-1);
        long capacity = local.path("capacityBytes").asLong(node.path("capacityBytes").asLong());
        JsonNode recovery = local.path("recovery");
        String recoveryState = recovery.path("state").asText("idle");
        long epoch = recovery.path("epoch").asLong();
        boolean recovering = recoveryState.equals("recovering");
        long objectsToGo = recovery.path("objectsToGo").asLong();
        String toGo = recovering || objectsToGo > 0
            ? objectsToGo + " (≈" + Sizes.format(recovery.path("bytesToGoEstimate").asLong()) + ")" : "-";
        return new String[] {name, zone, state, objects < 0 ? "?" : String.valueOf(objects),
            Sizes.format(local.path("usedBytes").asLong()), capacity > 0 ? Sizes.format(capacity) : "-",
            recoveryState + (epoch > 0 ? " epoch " + epoch : ""), toGo,
            recovering ? rate(recovery.path("bytesPerSecond").asLong()) : "-",
            recovering ? secondsLeft(recovery.path("secondsLeftEstimate").asLong()) : "-", scrub(local.path("scrub"))};
    }

    /** {@code off}, {@code scrubbing 40%}, {@code 3 passes}, or {@code -} from a node that does not say. */
    static String scrub(JsonNode scrub) {
        String state = scrub.path("state").asText("");
        long passes = scrub.path("passes").asLong();
        return switch (state) {
            case "off" -> "off";
            case "scrubbing" -> "scrubbing " + scrub.path("objectsDone").asLong() * 100
                / Math.max(1, scrub.path("objectsTotal").asLong()) + "%";
            case "waiting" -> passes + (passes == 1 ? " pass" : " passes");
            default -> "-";
        };
    }

    /**
     * What went wrong and was mended, summed over the nodes that answered, e.g.
     * {@code total: 3 repairs, 1 corrupt copy seen}; empty when all are zero.
     */
    static String totals(JsonNode status) {
        long repairs = 0;
        long corruptCopies = 0;
        long corruptBlocks = 0;
        for (JsonNode node : status.path("nodes")) {
            JsonNode local = node.path("local");
            repairs += local.path("repairs").asLong();
            corruptCopies += local.path("corruptCopiesSeen").asLong();
            corruptBlocks += local.path("corruptBlocksSeen").asLong();
        }
        List<String> parts = new ArrayList<>();
        if (repairs > 0) {
            parts.add(repairs + (repairs == 1 ? " repair" : " repairs"));
        }
        if (corruptCopies > 0) {
            parts.add(corruptCopies + (corruptCopies == 1 ? " corrupt copy seen" : " corrupt copies seen"));
        }
        if (corruptBlocks > 0) {
            parts.add(corruptBlocks + (corruptBlocks == 1 ? " corrupt block seen" : " corrupt blocks seen"));
        }
        return parts.isEmpty() ? "" : "total: " + String.join(", ", parts);
    }

    /** Bytes per second in powers of 1024: {@code 512 B/s}, {@code 48.2 MiB/s}; {@code -} when nothing moves. */
    static String rate(long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            return "-";
        }
        if (bytesPerSecond < 1024) {
            return bytesPerSecond + " B/s";
        }
        double value = bytesPerSecond;
        int unit = -1;
        while (value >= 1024 && unit < UNITS.length() - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %siB/s", value, UNITS.charAt(unit));
    }

    /** {@code 12s}, {@code 4m05s}, {@code 2h03m}; {@code -} when not known. */
    static String secondsLeft(long seconds) {
        if (seconds <= 0) {
            return "-";
        }
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
    }

    /** Use of a store as {@code dog node list} shows it: {@code 43%}. */
    static String usePercent(long used, long capacity) {
        if (capacity <= 0) {
            return "-";
        }
        return (long) Math.floor(100.0 * Math.max(0, used) / capacity) + "%";
    }

    static String pretty(JsonNode body) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
