package herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import herd.server.storage.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code herd volume ...}: block volumes, snapshots and clones, served over NBD (see docs/storage.md). */
@Command(name = "volume", description = "Create, list, snapshot and clone block volumes (served over NBD; see docs/storage.md).",
    subcommands = {VolumeCommands.Create.class, VolumeCommands.ListVolumes.class, VolumeCommands.Info.class,
        VolumeCommands.Resize.class, VolumeCommands.Delete.class, VolumeCommands.Snapshot.class,
        VolumeCommands.CloneSnapshot.class, VolumeCommands.Rollback.class, VolumeCommands.Detach.class,
        VolumeCommands.Check.class, VolumeCommands.Tree.class})
public final class VolumeCommands {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter CREATED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneId.systemDefault());

    static String volumePath(String name, String action) {
        String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8);
        return "/v1/volumes/" + encoded + (action.isEmpty() ? "" : "/" + action);
    }

    static long parseSize(String size) {
        try {
            return Sizes.parse(size, "size");
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, e.getMessage());
        }
    }

    abstract static class VolumeCommand implements Callable<Integer> {
        @Mixin ClientOptions options;
        @Spec CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        void print(JsonNode body, String line) {
            if (options.json()) {
                try {
                    out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            } else {
                out().println(line);
            }
            out().flush();
        }

        JsonNode post(String path, ObjectNode body) {
            return Failures.check(options.client().post(path, body)).body();
        }
    }

    @Command(name = "create", description = "Create an empty volume of SIZE (like 10G; K, M, G, T are powers of 1024).")
    static final class Create extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "SIZE") String size;
        @Option(names = "--copies", paramLabel = "N",
            description = "Copies of each object, each in another zone; default: the cluster's, see herd storage format.")
        Integer copies;
        @Option(names = "--tag", paramLabel = "TAG", defaultValue = "", description = "Free text shown by list.") String tag;

        @Override
        public Integer call() {
            ObjectNode body = JSON.createObjectNode().put("name", name).put("sizeBytes", parseSize(size)).put("tag", tag);
            if (copies != null) {
                body.put("copies", copies); // left out: the cluster's default
            }
            JsonNode created = post("/v1/volumes", body);
            print(created, "created volume " + name + " (id " + created.path("id").asLong() + ", "
                + Sizes.format(created.path("sizeBytes").asLong()) + copiesText(created) + ")");
            return ExitCode.OK;
        }
    }

    /** {@code , 2 copies} from a created volume; empty when the answer does not say. */
    static String copiesText(JsonNode volume) {
        int copies = volume.path("copies").asInt(0);
        return copies <= 0 ? "" : ", " + copies + (copies == 1 ? " copy" : " copies");
    }

    @Command(name = "list", description = "List volumes and snapshots (like dog vdi list).")
    static final class ListVolumes extends VolumeCommand {
        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get("/v1/volumes")).body();
            if (options.json()) {
                print(body, "");
                return ExitCode.OK;
            }
            Table table = new Table("NAME", "ID", "SIZE", "USED", "SHARED", "CREATED", "COPIES", "TAG");
            for (JsonNode volume : body.path("volumes")) {
                String name = (volume.path("kind").asText().equals("snapshot") ? "s " : "  ") + volume.path("name").asText();
                table.row(name, volume.path("id").asLong(), Sizes.format(volume.path("sizeBytes").asLong()),
                    Sizes.format(volume.path("usedBytes").asLong()), Sizes.format(volume.path("sharedBytes").asLong()),
                    CREATED.format(Instant.ofEpochMilli(volume.path("createdMillis").asLong())), volume.path("copies").asInt(),
                    volume.path("tag").asText());
            }
            table.print(out());
            return ExitCode.OK;
        }
    }

    @Command(name = "info", description = "Show one volume or snapshot.")
    static final class Info extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;

        @Override
        public Integer call() {
            JsonNode volume = Failures.check(options.client().get(volumePath(name, ""))).body();
            StringBuilder text = new StringBuilder();
            text.append("name:      ").append(volume.path("name").asText()).append('\n')
                .append("kind:      ").append(volume.path("kind").asText()).append('\n')
                .append("id:        ").append(volume.path("id").asLong()).append('\n')
                .append("size:      ").append(Sizes.format(volume.path("sizeBytes").asLong()))
                .append(" (").append(volume.path("sizeBytes").asLong()).append(" bytes)\n")
                .append("used:      ").append(Sizes.format(volume.path("usedBytes").asLong())).append('\n')
                .append("shared:    ").append(Sizes.format(volume.path("sharedBytes").asLong())).append('\n')
                .append("copies:    ").append(volume.path("copies").asInt()).append('\n')
                .append("created:   ").append(CREATED.format(Instant.ofEpochMilli(volume.path("createdMillis").asLong()))).append('\n')
                .append("tag:       ").append(volume.path("tag").asText()).append('\n')
                .append("attached:  ").append(volume.path("attachedNode").asText("-")).append('\n')
                .append("objects:   ").append(volume.path("inodeEntries").asInt()).append(" written by it\n")
                .append("parents:   ").append(volume.path("chain").isEmpty() ? "-" : String.join(" <- ",
                    JSON.convertValue(volume.path("chain"), String[].class)));
            print(volume, text.toString());
            return ExitCode.OK;
        }
    }

    @Command(name = "resize", description = "Grow a volume to SIZE (volumes only grow).")
    static final class Resize extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "SIZE") String size;

        @Override
        public Integer call() {
            JsonNode resized = post(volumePath(name, "resize"), JSON.createObjectNode().put("sizeBytes", parseSize(size)));
            print(resized, "resized volume " + name + " to " + Sizes.format(resized.path("sizeBytes").asLong()));
            return ExitCode.OK;
        }
    }

    @Command(name = "delete", description = "Delete a volume or snapshot (a volume served here is detached first).")
    static final class Delete extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;

        @Override
        public Integer call() {
            print(Failures.check(options.client().delete(volumePath(name, ""))).body(), "deleted " + name);
            return ExitCode.OK;
        }
    }

    @Command(name = "snapshot", description = "Freeze volume NAME as read-only snapshot SNAP (copy-on-write, instant).")
    static final class Snapshot extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "SNAP") String snapshot;
        @Option(names = "--tag", paramLabel = "TAG", defaultValue = "", description = "Free text shown by list.") String tag;

        @Override
        public Integer call() {
            JsonNode taken = post(volumePath(name, "snapshot"), JSON.createObjectNode().put("snapshot", snapshot).put("tag", tag));
            print(taken, "took snapshot " + snapshot + " of volume " + name + " (id " + taken.path("id").asLong() + ")");
            return ExitCode.OK;
        }
    }

    @Command(name = "clone", description = "Create volume NEW from snapshot SNAP (copy-on-write, instant).")
    static final class CloneSnapshot extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "SNAP") String snapshot;
        @Parameters(index = "1", paramLabel = "NEW") String newName;
        @Option(names = "--copies", paramLabel = "N", description = "Copies of each object NEW writes, each in another "
            + "zone; default: the snapshot's. What NEW shares with SNAP keeps SNAP's copies.")
        Integer copies;

        @Override
        public Integer call() {
            var body = JSON.createObjectNode().put("newName", newName);
            if (copies != null) {
                body.put("copies", copies); // left out: the snapshot's
            }
            JsonNode cloned = post(volumePath(snapshot, "clone"), body);
            print(cloned, "cloned snapshot " + snapshot + " as volume " + newName + " (id " + cloned.path("id").asLong()
                + copiesText(cloned) + ")");
            return ExitCode.OK;
        }
    }

    @Command(name = "rollback", description = "Return volume NAME to its snapshot SNAP (what it wrote since is dropped).")
    static final class Rollback extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;
        @Parameters(index = "1", paramLabel = "SNAP") String snapshot;

        @Override
        public Integer call() {
            print(post(volumePath(name, "rollback"), JSON.createObjectNode().put("snapshot", snapshot)),
                "rolled volume " + name + " back to snapshot " + snapshot);
            return ExitCode.OK;
        }
    }

    @Command(name = "detach", description = {"Stop serving volume NAME on the node this command talks to (its NBD "
        + "clients get I/O errors), so that another node may serve it.",
        "Run it against the node the volume is attached to ('herd volume info' shows which); a node that is down "
        + "releases its volumes when it is fenced ('herd fence NODE')."})
    static final class Detach extends VolumeCommand {
        @Parameters(index = "0", paramLabel = "NAME") String name;

        @Override
        public Integer call() {
            print(post(volumePath(name, "detach"), JSON.createObjectNode()), "detached volume " + name);
            return ExitCode.OK;
        }
    }

    @Command(name = "check", description = {"Read every copy of every object volume NAME reads, whole, on the node "
        + "holding it; check each block against its checksum and replace a damaged copy with a good one.",
        "Reads use the first copy that reads well, so damage to the others shows only here, in the background scrub "
        + "(HERD_SCRUB_INTERVAL) or once that copy is lost. "
        + "Exits 1 when a copy could not be checked or mended; each such copy is listed with the reason."})
    static final class Check extends VolumeCommand {
        /** How often progress goes to standard error during a long check. */
        private static final long PROGRESS_EVERY_NANOS = 10_000_000_000L;
        /**
         * Object indexes per request: each object is read whole on every node holding a copy, so on
         * slow disks a request of 16 still ends well within the client's 30 s.
         */
        private static final int OBJECTS_PER_REQUEST = 16;

        @Parameters(index = "0", paramLabel = "NAME") String name;

        @Override
        public Integer call() {
            ObjectNode total = JSON.createObjectNode().put("volume", name);
            var repaired = total.putArray("repaired");
            var problems = total.putArray("problems");
            long objectsChecked = 0;
            long copiesGood = 0;
            long objectCount = 0;
            long lastProgress = System.nanoTime();
            for (long from = 0; ; ) {
                JsonNode part = post(volumePath(name, "check") + "?from=" + from + "&count=" + OBJECTS_PER_REQUEST,
                    JSON.createObjectNode());
                objectCount = part.path("objectCount").asLong();
                objectsChecked += part.path("objectsChecked").asLong();
                copiesGood += part.path("copiesGood").asLong();
                part.path("repaired").forEach(repair -> {
                    repaired.add(repair);
                    if (!options.json()) {
                        out().println("repaired: the copy of object " + repair.path("object").asText() + " (index "
                            + repair.path("index").asLong() + ") on node " + repair.path("node").asText()
                            + " was damaged and was mended from a good copy");
                    }
                });
                part.path("problems").forEach(problem -> {
                    problems.add(problem);
                    if (!options.json()) {
                        out().println("problem: the copy of object " + problem.path("object").asText() + " (index "
                            + problem.path("index").asLong() + ") on node " + problem.path("node").asText() + ": "
                            + problem.path("problem").asText());
                    }
                });
                long next = part.path("next").asLong();
                if (next >= objectCount || next <= from) {
                    break;
                }
                from = next;
                if (System.nanoTime() - lastProgress > PROGRESS_EVERY_NANOS) {
                    spec.commandLine().getErr().println("checked indexes 0 to " + (from - 1) + " of " + objectCount);
                    spec.commandLine().getErr().flush();
                    lastProgress = System.nanoTime();
                }
            }
            total.put("objectCount", objectCount).put("objectsChecked", objectsChecked).put("copiesGood", copiesGood);
            print(total, "volume " + name + ": " + objectsChecked + " object(s) checked of " + objectCount + " index(es), "
                + copiesGood + " cop" + (copiesGood == 1 ? "y" : "ies") + " good, " + repaired.size() + " repaired, "
                + problems.size() + " problem(s)");
            return problems.isEmpty() ? ExitCode.OK : ExitCode.FAILURE;
        }
    }

    @Command(name = "tree", description = "Show which volumes and snapshots read through which snapshots.")
    static final class Tree extends VolumeCommand {
        @Override
        public Integer call() {
            JsonNode body = Failures.check(options.client().get("/v1/volumes/tree")).body();
            if (options.json()) {
                print(body, "");
                return ExitCode.OK;
            }
            for (JsonNode root : body.path("roots")) {
                printNode(root, "", "");
            }
            out().flush();
            return ExitCode.OK;
        }

        private void printNode(JsonNode node, String firstPrefix, String childPrefix) {
            String kind = node.path("kind").asText().equals("snapshot") ? "snapshot" : "volume";
            out().println(firstPrefix + node.path("name").asText() + " (" + kind
                + (node.path("deleted").asBoolean() ? ", deleted" : "") + ", id " + node.path("id").asLong() + ")");
            JsonNode children = node.path("children");
            for (int i = 0; i < children.size(); i++) {
                boolean last = i == children.size() - 1;
                printNode(children.get(i), childPrefix + (last ? "└─ " : "├─ "), childPrefix + (last ? "   " : "│  "));
            }
        }
    }
}
