package herd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import herd.block.store.ObjectStore;
import herd.blockcore.ObjectId;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volumes kept as two copies on a three-node cluster (each node its own zone), written and read by
 * qemu-io over NBD: every object has its copies on two nodes; a node holding copies is killed and
 * the data reads back and takes writes at once, and the survivors restore two copies of everything;
 * the killed node comes back with old copies that never win over the newer ones; a damaged block is
 * served from the good copy and the damaged one is repaired.
 */
class ReplicationTest {
    private static final long TOOL_TIMEOUT_SECONDS = 120;
    private static final Duration SETTLE = Duration.ofSeconds(90);
    /** Objects the writes below create: 0-7 (0..32M) and 10-11 (40M..48M). */
    private static final int OBJECTS_WRITTEN = 10;

    @TempDir Path root;
    private HerdCluster cluster;
    private int nbdPort;

    @AfterEach
    void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void twoCopiesSurviveANodeLossRecoverAndRepairADamagedBlock() throws Exception {
        startCluster(3, Map.of());

        HerdCluster.CliResult tooMany = cluster.cliAgainstCluster("volume", "create", "wide", "16M", "--copies", "4");
        assertThat(tooMany.exitCode()).isNotZero();
        assertThat(tooMany.stderr()).contains("3 zone(s)");

        herd("volume", "create", "vol", "64M", "--copies", "2");
        qemuIo("vol", "write -P 0xab 0 32M", "write -P 0xcd 40M 8M", "flush");
        Map<String, Set<String>> holders = awaitCopies(2, Set.of("s1", "s2", "s3"));
        assertThat(holders).hasSize(OBJECTS_WRITTEN);
        List<String> nodeList = herd("node", "list").stdout().lines().toList();
        assertThat(nodeList.get(0).split(" +")).containsExactly("NAME", "ROLE", "ADDRESS", "ZONE", "VNODES", "CAPACITY",
            "USED", "USE%");
        for (String node : List.of("s1", "s2", "s3")) {
            String[] row = nodeList.stream().filter(line -> line.startsWith(node + " ")).findFirst().orElseThrow().split(" +");
            assertThat(row).as("%s in\n%s", node, nodeList).hasSize(8);
            assertThat(row[1]).isEqualTo("server");
            assertThat(row[3]).as("its zone, by default its name").isEqualTo(node);
            assertThat(Integer.parseInt(row[4])).as("vnodes").isPositive();
            assertThat(row[6]).as("used").isNotEqualTo("-");
        }
        // s1 serves the volume: its writes reached the other holders over their object channels, not HTTP
        JsonNode afterWrites = storageStatus();
        for (String peer : List.of("s2", "s3")) {
            if (copiesOn(holders, peer) > 0) {
                assertThat(localOf(afterWrites, peer).path("objectChannel").path("requestsServed").asLong())
                    .as("requests %s served over its object channel", peer).isPositive();
            }
        }

        // the node to lose: the one other than s1 (which serves the volume) holding the most copies
        String victim = Stream.of("s2", "s3").max((a, b) -> Long.compare(copiesOn(holders, a), copiesOn(holders, b))).orElseThrow();
        String survivor = victim.equals("s2") ? "s3" : "s2";
        cluster.kill(victim);
        qemuIo("vol", "read -P 0xab 0 32M", "read -P 0xcd 40M 8M", "read -P 0 32M 8M");
        qemuIo("vol", "write -P 0xef 0 4M", "write -P 0x12 44M 4M", "flush");
        awaitCopies(2, Set.of("s1", survivor));
        qemuIo("vol", "read -P 0xef 0 4M", "read -P 0xab 4M 28M", "read -P 0xcd 40M 4M", "read -P 0x12 44M 4M");
        String afterLoss = herd("storage", "status").stdout();
        assertThat(afterLoss.lines().filter(line -> line.startsWith(victim + " ")).findFirst()).as(afterLoss)
            .hasValueSatisfying(row -> assertThat(row).containsPattern(" (DOWN|LOST) ").contains("unreachable"));
        assertThat(afterLoss.lines().filter(line -> line.startsWith("s1 ")).findFirst()).as(afterLoss)
            .hasValueSatisfying(row -> assertThat(row).contains("MEMBER"));

        // the victim returns with copies that missed the writes above: they must not come back
        cluster.restart(victim);
        awaitStorage("the returning node recovered", status -> membersInEpoch(status) == 3 && everyMemberRecovered(status));
        awaitCopies(2, Set.of("s1", "s2", "s3"));
        qemuIo("vol", "read -P 0xef 0 4M", "read -P 0xab 4M 28M", "read -P 0xcd 40M 4M", "read -P 0x12 44M 4M");

        // a damaged block in s1's copy (s1 reads its own copy first) is served from the other copy, then repaired
        Map<String, Set<String>> now = awaitCopies(2, Set.of("s1", "s2", "s3"));
        String damagedObject = now.entrySet().stream().filter(e -> e.getValue().contains("s1")).map(Map.Entry::getKey)
            .filter(hex -> hex.endsWith("00000001")).findFirst() // object 1 of the volume: bytes 4M..8M, all 0xab
            .orElseGet(() -> now.entrySet().stream().filter(e -> e.getValue().contains("s1")).map(Map.Entry::getKey)
                .filter(hex -> !hex.endsWith("00000000") && !hex.endsWith("0000000b")).findFirst().orElseThrow());
        HerdCluster.flipByte(cluster.objectFile("s1", damagedObject), 8192 + 17);
        int index = Integer.parseInt(damagedObject.substring(8), 16);
        String expected = index <= 7 ? "0xab" : "0xcd";
        qemuIo("vol", "read -P " + expected + " " + (index * 4L << 20) + " 4M");
        awaitStorage("s1 repaired its damaged copy", status -> localOf(status, "s1").path("repairs").asLong() >= 1);
        assertThat(herd("storage", "status").stdout()).containsPattern("total: [0-9]+ repairs?");
        qemuIo("vol", "read -P " + expected + " " + (index * 4L << 20) + " 4M");

        // a damaged block in a copy reads never reach (s1's own copy reads well) is found and mended by a check
        String unread = now.entrySet().stream().filter(e -> e.getValue().contains("s1") && !e.getKey().equals(damagedObject))
            .map(Map.Entry::getKey).findFirst().orElseThrow();
        String otherHolder = now.get(unread).stream().filter(node -> !node.equals("s1")).findFirst().orElseThrow();
        HerdCluster.flipByte(cluster.objectFile(otherHolder, unread), 4096 + 3);
        HerdCluster.CliResult check = cluster.cliAgainst("s2", "volume", "check", "vol");
        assertThat(check.exitCode()).as(check.toString()).isZero();
        assertThat(check.stdout()).as(check.toString())
            .contains("repaired: the copy of object " + unread + " (index " + Integer.parseInt(unread.substring(8), 16)
                + ") on node " + otherHolder + " was damaged and was mended from a good copy")
            .contains("volume vol: " + OBJECTS_WRITTEN + " object(s) checked of 16 index(es), " + (2 * OBJECTS_WRITTEN - 1)
                + " copies good, 1 repaired, 0 problem(s)");
        assertThat(Files.readAllBytes(cluster.objectFile(otherHolder, unread))).as("the mended copy, byte for byte")
            .isEqualTo(Files.readAllBytes(cluster.objectFile("s1", unread)));
        HerdCluster.CliResult again = herd("volume", "check", "vol");
        assertThat(again.stdout()).isEqualTo("volume vol: " + OBJECTS_WRITTEN + " object(s) checked of 16 index(es), "
            + 2 * OBJECTS_WRITTEN + " copies good, 0 repaired, 0 problem(s)\n");

        // a deleted volume's objects are reclaimed on every node
        herd("volume", "create", "scratch", "16M", "--copies", "2");
        qemuIo("scratch", "write -P 0x5a 0 12M", "flush");
        awaitCopies(2, Set.of("s1", "s2", "s3"), OBJECTS_WRITTEN + 3);
        // TRIM releases blocks on every copy: objects left with none are deleted everywhere
        qemuIo("scratch", "discard 0 8M", "flush", "read -P 0 0 8M", "read -P 0x5a 8M 4M");
        awaitCopies(2, Set.of("s1", "s2", "s3"), OBJECTS_WRITTEN + 1);
        // s1 serves it: s1 may not leave while it does, and only s1 may detach it
        HerdCluster.CliResult removeServing = cluster.cliAgainstCluster("server", "remove", "s1");
        assertThat(removeServing.exitCode()).as(removeServing.toString()).isNotZero();
        assertThat(removeServing.stderr()).contains("node s1 has volume(s) ").contains("scratch")
            .contains("attached for writing").contains("herd fence s1");
        assertThat(cluster.cliAgainstCluster("server", "list").stdout()).contains("s1");
        HerdCluster.CliResult detachElsewhere = cluster.cliAgainst("s2", "volume", "detach", "scratch");
        assertThat(detachElsewhere.exitCode()).as(detachElsewhere.toString()).isNotZero();
        assertThat(detachElsewhere.stderr()).contains("it is attached on node s1").contains("herd fence s1");
        HerdCluster.CliResult detached = cluster.cliAgainst("s1", "volume", "detach", "scratch");
        assertThat(detached.exitCode()).as(detached.toString()).isZero();
        assertThat(detached.stdout()).isEqualTo("detached volume scratch\n");
        assertThat(herd("volume", "info", "scratch").stdout()).doesNotContain("attached:  s1");
        herd("volume", "delete", "scratch");
        awaitCopies(2, Set.of("s1", "s2", "s3"), OBJECTS_WRITTEN);

        // through another node's NBD server: the volume s1 serves is refused, its snapshot is read
        NbdTools viaS2 = new NbdTools(cluster, cluster.server("s2").nbdPort);
        NbdTools.ToolResult refused = NbdTools.run(List.of("qemu-io", "-f", "raw", "-c", "read 0 4k", viaS2.uri("vol")));
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.output()).contains("attached on node s1");
        HerdCluster.CliResult snapshot = cluster.cliAgainst("s1", "volume", "snapshot", "vol", "vol.snap");
        assertThat(snapshot.exitCode()).as(snapshot.toString()).isZero();
        viaS2.qemuIoReadOnly("vol.snap", "read -P 0xef 0 4M", "read -P 0xab 4M 28M", "read -P 0 32M 8M",
            "read -P 0xcd 40M 4M", "read -P 0x12 44M 4M");

        // a node holding the only copy of an object may not be removed
        herd("volume", "create", "single", "4M", "--copies", "1");
        qemuIo("single", "write -P 0x77 0 4M", "flush");
        for (String served : List.of("vol", "single")) { // so that attachments do not stand in the way below
            assertThat(cluster.cliAgainst("s1", "volume", "detach", served).exitCode()).isZero();
        }
        Map<String, Set<String>> all = holders(Set.of("s1", "s2", "s3"));
        String soleHolder = all.values().stream().filter(h -> h.size() == 1).findFirst().orElseThrow().iterator().next();
        HerdCluster.CliResult removal = cluster.cliAgainstCluster("server", "remove", soleHolder);
        assertThat(removal.exitCode()).as(removal.toString()).isNotZero();
        assertThat(removal.stderr()).contains("holds the only copy of 1 object");
        assertThat(cluster.cliAgainstCluster("server", "list").stdout()).contains(soleHolder);

        // down, it cannot be asked: it leaves only when the operator gives up its copies
        cluster.kill(soleHolder);
        awaitStorage(soleHolder + " out of the storage epoch", status -> membersInEpoch(status) == 2);
        HerdCluster.CliResult downRemoval = cluster.cliAgainstCluster("server", "remove", soleHolder);
        assertThat(downRemoval.exitCode()).as(downRemoval.toString()).isNotZero();
        assertThat(downRemoval.stderr()).contains("node " + soleHolder + " is not in the storage epoch (")
            .contains("--force");
        assertThat(cluster.cliAgainstCluster("server", "list").stdout()).contains(soleHolder);
        HerdCluster.CliResult forced = cluster.cliAgainstCluster("server", "remove", soleHolder, "--force");
        assertThat(forced.exitCode()).as(forced.toString()).isZero();
        assertThat(cluster.cliAgainstCluster("server", "list").stdout()).doesNotContain(soleHolder);

        // replaced: a new node, in a zone of its own, takes its share, and every object has two copies again
        Set<String> survivors = new TreeSet<>(Set.of("s1", "s2", "s3"));
        survivors.remove(soleHolder);
        HerdCluster.Server replacement = cluster.joinWorker("w4");
        awaitStorage("w4 in the epoch and every member recovered",
            status -> membersInEpoch(status) == 3 && everyMemberRecovered(status));
        Set<String> afterReplacement = new TreeSet<>(survivors);
        afterReplacement.add("w4");
        Map<String, Set<String>> replaced = awaitCopies(2, afterReplacement);
        assertThat(copiesOn(replaced, "w4")).as("w4's share in\n" + replaced).isPositive();
        new NbdTools(cluster, replacement.nbdPort).qemuIoReadOnly("vol.snap", "read -P 0xef 0 4M",
            "read -P 0xab 4M 28M", "read -P 0 32M 8M", "read -P 0xcd 40M 4M", "read -P 0x12 44M 4M");
    }

    @Test
    void theScrubFindsAndMendsADamagedCopyThatReadsNeverReach() throws Exception {
        startCluster(2, Map.of("HERD_SCRUB_INTERVAL", "2s"));
        herd("volume", "create", "vol", "8M", "--copies", "2");
        qemuIo("vol", "write -P 0x3c 0 8M", "flush");
        awaitCopies(2, Set.of("s1", "s2"), 2);
        awaitStorage("a scrub pass on s2", status -> localOf(status, "s2").path("scrub").path("passes").asLong() >= 1);

        // s1 serves the volume and reads its own copies: only the scrub reads s2's
        String object = holders(Set.of("s1", "s2")).keySet().stream().sorted().findFirst().orElseThrow();
        HerdCluster.flipByte(cluster.objectFile("s2", object), 12 * 4096 + 5);
        awaitStorage("s2's scrub mended its copy", status -> localOf(status, "s2").path("scrub").path("repaired").asLong() >= 1);
        JsonNode scrub = localOf(storageStatus(), "s2").path("scrub");
        assertThat(scrub.path("damagedFound").asLong()).as(scrub.toString()).isEqualTo(1);
        assertThat(scrub.path("state").asText()).isIn("waiting", "scrubbing");
        assertThat(Files.readString(cluster.server("s2").data.resolve("scrub-last-pass")).strip())
            .as("the end of the last pass, kept for the next start").matches("[0-9]{13}");
        assertThat(Files.readAllBytes(cluster.objectFile("s2", object))).as("the mended copy, byte for byte")
            .isEqualTo(Files.readAllBytes(cluster.objectFile("s1", object)));
        assertThat(cluster.logLinesWith("s2", object)).as("s2's log about " + object)
            .anySatisfy(line -> assertThat(line).contains("mended this node's copy of object " + object
                + " from node s1's: 1 damaged block"));
        qemuIo("vol", "read -P 0x3c 0 8M");
    }

    @Test
    void aCopyWhoseFileIsLostIsReplacedFromTheOtherByAFlushAReadOrAWrite() throws Exception {
        startCluster(3, Map.of());
        int written = 24;
        int others = 2 * ObjectStore.MAX_OPEN_OBJECTS; // s1 holds about two thirds of them
        herd("volume", "create", "vol", ((written + others) * 4) + "M", "--copies", "2");
        qemuIo("vol", "write -P 0x6d 0 " + (written * 4) + "M", "flush");
        List<Map.Entry<String, Set<String>>> onS1 = awaitCopies(2, Set.of("s1", "s2", "s3"), written).entrySet().stream()
            .filter(entry -> entry.getValue().contains("s1")).sorted(Map.Entry.comparingByKey()).limit(3).toList();
        assertThat(onS1).as("objects of the " + written + " with a copy on s1").hasSize(3);
        String flushed = onS1.get(0).getKey();
        String read = onS1.get(1).getKey();
        String rewritten = onS1.get(2).getKey();

        // A block written into the first and not flushed (fio sends no flush unless asked; qemu flushes
        // when it closes), then one at the start of each of more objects than s1's store keeps open, so
        // that it closes those three files; then all three are lost from s1's disk behind its back.
        fioWrite("0x33", megabytesAt(flushed) + "M", "4k", "write");
        fioWrite("0x11", (written * 4) + "M", (others * 4) + "M", "write:4092k");
        for (Map.Entry<String, Set<String>> object : onS1) {
            Files.delete(cluster.objectFile("s1", object.getKey()));
        }

        // the flush cannot sync s1's copy of the first: it is replaced by the other, which has the write
        NbdTools.ToolResult flush = NbdTools.run(List.of("qemu-io", "-f", "raw", "-c", "flush",
            new NbdTools(cluster, nbdPort).uri("vol")));
        assertThat(flush.exitCode()).as(flush.output()).isZero();
        assertThat(flush.output()).doesNotContain("failed");
        awaitMendedCopy(flushed, otherHolder(onS1.get(0)));
        assertThat(cluster.logLinesWith("s1", flushed)).as("s1's log about " + flushed)
            .anySatisfy(line -> assertThat(line).contains("its file is missing from the store"))
            .anySatisfy(line -> assertThat(line).contains("mended this node's copy of object " + flushed + " from node "
                + otherHolder(onS1.get(0)) + "'s: the whole copy (its file was lost)"));
        qemuIo("vol", "read -P 0x33 " + megabytesAt(flushed) + "M 4k",
            "read -P 0x6d " + (megabytesAt(flushed) * 1024 + 4) + "k 4092k");

        // s1 serves the volume and asks its own copy first: the read is served by the other copy, which replaces s1's
        qemuIo("vol", "read -P 0x6d " + megabytesAt(read) + "M 4M");
        awaitMendedCopy(read, otherHolder(onS1.get(1)));
        // the repair runs beside the read and logs once the copy is in place
        awaitLogLine(read, "the copy on node s1 lost its file and was mended from node " + otherHolder(onS1.get(1)) + "'s");
        assertThat(cluster.logLinesWith("s1", read)).as("s1's log about " + read)
            .anySatisfy(line -> assertThat(line).contains("its file is missing from the store"));

        // a write into the last: s1 must not start an empty object there, which reads would then take for the data
        qemuIo("vol", "write -P 0x22 " + megabytesAt(rewritten) + "M 4k", "flush");
        qemuIo("vol", "read -P 0x22 " + megabytesAt(rewritten) + "M 4k",
            "read -P 0x6d " + (megabytesAt(rewritten) * 1024 + 4) + "k 4092k");
        awaitMendedCopy(rewritten, otherHolder(onS1.get(2)));

        HerdCluster.CliResult checked = cluster.cliAgainstCluster("volume", "check", "vol");
        assertThat(checked.exitCode()).as(checked.toString()).isZero();
        assertThat(checked.stdout()).contains("0 repaired, 0 problem(s)");
    }

    /** Writes {@code pattern} with fio's nbd engine in 4 KiB requests, sending no flush. */
    private void fioWrite(String pattern, String offset, String size, String rw) throws Exception {
        NbdTools.ToolResult wrote = NbdTools.run(List.of("fio", "--name=unflushed", "--ioengine=nbd",
            "--uri=" + new NbdTools(cluster, nbdPort).uri("vol"), "--rw=" + rw, "--bs=4k", "--offset=" + offset,
            "--size=" + size, "--buffer_pattern=" + pattern, "--output-format=normal"));
        assertThat(wrote.exitCode()).as(wrote.output()).isZero();
    }

    /** Waits until s1 has logged a line about {@code object} that contains {@code text}. */
    private void awaitLogLine(String object, String text) throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (cluster.logLinesWith("s1", object).stream().noneMatch(line -> line.contains(text))) {
            assertThat(System.nanoTime()).as("s1's log about " + object + " to say: " + text + "\n"
                + String.join("\n", cluster.logLinesWith("s1", object))).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Where an object (hex id) starts in its volume, in MiB. */
    private static long megabytesAt(String object) {
        return ObjectId.parseHex(object).index() * 4L;
    }

    private static String otherHolder(Map.Entry<String, Set<String>> holders) {
        return holders.getValue().stream().filter(node -> !node.equals("s1")).findFirst().orElseThrow();
    }

    /** Waits until s1 holds {@code object} again, byte for byte as {@code holder} does. */
    private void awaitMendedCopy(String object, String holder) throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            List<Path> onS1 = cluster.objectFiles("s1").stream().filter(f -> f.getFileName().toString().equals(object)).toList();
            if (!onS1.isEmpty() && Files.mismatch(onS1.get(0), cluster.objectFile(holder, object)) == -1) {
                return;
            }
            assertThat(System.nanoTime()).as("s1's copy of " + object + " replaced by " + holder + "'s; s1's log:\n"
                + cluster.log("s1")).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @Test
    void aWriteOneCopyHasNoRoomForFailsWithEnospcAndTheCopiesStillAgree() throws Exception {
        // 3 nodes of 24 MiB for a 64 MiB volume in 2 copies: the stores fill up one after the other.
        startCluster(3, Map.of("HERD_STORAGE_CAPACITY", "24M"));
        herd("volume", "create", "vol", "64M", "--copies", "2");

        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (int object = 0; object < 16; object++) {
            command.addAll(List.of("-c", "write -P 0xab " + (object * 4) + "M 4M"));
        }
        command.add(new NbdTools(cluster, nbdPort).uri("vol"));
        NbdTools.ToolResult filled = NbdTools.run(command);
        assertThat(filled.output()).as("the client is told the disk is full").contains("No space left on device");

        // Every object a write created has both its copies, and they hold the same bytes: a copy that
        // took a write the other had no room for was put back, so no read depends on which copy answers.
        Map<String, Set<String>> holders = holders(Set.of("s1", "s2", "s3"));
        assertThat(holders).isNotEmpty();
        for (Map.Entry<String, Set<String>> object : holders.entrySet()) {
            assertThat(object.getValue()).as("holders of object " + object.getKey()).hasSize(2);
            List<String> nodes = List.copyOf(object.getValue());
            assertThat(Files.mismatch(cluster.objectFile(nodes.get(0), object.getKey()), cluster.objectFile(nodes.get(1), object.getKey())))
                .as("object " + object.getKey() + " on " + nodes).isEqualTo(-1L);
        }
        for (int object = 0; object < 16; object++) {
            String suffix = String.format("%08x", object);
            boolean written = holders.keySet().stream().anyMatch(hex -> hex.endsWith(suffix));
            String pattern = written ? "0xab" : "0";
            qemuIo("vol", "read -P " + pattern + " " + (object * 4) + "M 4M");
        }
    }

    @Test
    void fioVerifiesItsRandomWritesWhileANodeHoldingCopiesIsKilled() throws Exception {
        startCluster(3, Map.of());
        herd("storage", "format", "--copies", "2");
        herd("volume", "create", "db", "64M"); // the cluster's default: 2 copies
        assertThat(herd("volume", "info", "db").stdout()).contains("copies:    2");

        // 16,384 writes at 2,000 per second: about 8 s of writes, so that the kill lands among them
        List<String> fio = List.of("fio", "--name=kill", "--ioengine=nbd", "--uri=nbd://127.0.0.1:" + nbdPort + "/db",
            "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=64M", "--rate_iops=2000", "--verify=crc32c",
            "--do_verify=1", "--randrepeat=1", "--output-format=normal");
        Process client = new ProcessBuilder(fio).redirectErrorStream(true).start();
        client.getOutputStream().close();
        String victim = "s3";
        long started = System.nanoTime();
        while (copiesOn(holders(Set.of("s1", "s2", "s3")), victim) == 0) {
            assertThat(System.nanoTime() - started).as(victim + " holds no copy yet").isLessThan(SETTLE.toNanos());
            Thread.sleep(100);
        }
        Thread.sleep(1000); // more copies on the victim
        assertThat(client.isAlive()).as("fio still writes when " + victim + " is killed").isTrue();
        long victimCopies = copiesOn(holders(Set.of("s1", "s2", "s3")), victim);
        long killedAfterMillis = (System.nanoTime() - started) / 1_000_000;
        cluster.kill(victim);
        String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("fio finished").isTrue();
        assertThat(client.exitValue()).as(String.join(" ", fio) + "\n" + output + "\ns1 log:\n" + cluster.log("s1")).isZero();
        assertThat(output).contains("err= 0").doesNotContain("verify: bad");
        java.util.regex.Matcher writePhase = java.util.regex.Pattern.compile("WRITE: .* run=(\\d+)-").matcher(output);
        assertThat(writePhase.find()).as("fio's write summary in\n" + output).isTrue();
        assertThat(Long.parseLong(writePhase.group(1))).as("ms fio wrote for; the kill came %d ms after it started",
            killedAfterMillis).isGreaterThan(killedAfterMillis);
        System.out.println("fio while " + victim + " (holding " + victimCopies + " of the volume's copies) was killed "
            + killedAfterMillis + " ms after fio started:\n" + output);

        awaitCopies(2, Set.of("s1", "s2"), 16);
        cluster.restart(victim);
        awaitStorage("the returning node recovered", status -> membersInEpoch(status) == 3 && everyMemberRecovered(status));
        awaitCopies(2, Set.of("s1", "s2", "s3"), 16);
        Process verify = new ProcessBuilder(List.of("fio", "--name=kill", "--ioengine=nbd",
            "--uri=nbd://127.0.0.1:" + nbdPort + "/db", "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=64M",
            "--verify=crc32c", "--verify_only=1", "--randrepeat=1")).redirectErrorStream(true).start();
        verify.getOutputStream().close();
        String verified = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(verify.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(verify.exitValue()).as(verified).isZero();
        assertThat(verified).doesNotContain("verify: bad");
    }

    /**
     * The serving node's first write to another copy is held on the way (iptables drops the packets of
     * the connection it went out on) until after the node gave up on it, made it again, acknowledged
     * it and took a newer write of the same block; then the held write arrives. It must not land:
     * the serving node made the write again only in a new epoch it asked for, and the late one, of the
     * epoch before, is refused. Needs root and iptables ({@code bin/test} installs it).
     */
    @Test
    void aWriteANodeDidNotAnswerInTimeIsMadeAgainInANewEpochAndCannotLandLater() throws Exception {
        Map.Entry<String, Set<String>> holders = threeNodesWithAnObjectInTwoCopies();
        String object = holders.getKey();
        int channelPort = objectChannelPort(otherHolder(holders));
        long epochBefore = storageStatus().path("epoch").asLong();

        // the connections the serving node keeps to the slow node's channel carry the next write
        try (DroppedConnections held = DroppedConnections.to(channelPort)) {
            String uri = new NbdTools(cluster, nbdPort).uri("vol");
            CompletableFuture<NbdTools.ToolResult> first = CompletableFuture.supplyAsync(
                () -> runQuietly(List.of("qemu-io", "-f", "raw", "-c", "write -P 0x22 0 4k", uri)));
            NbdTools.ToolResult firstDone = first.get(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(firstDone.exitCode()).as(firstDone.output() + "\ns1 log:\n" + cluster.log("s1")).isZero();
            assertThat(cluster.logLinesWith("s1", "only in a new storage epoch, which refuses the late one"))
                .as("s1 gave up on the held write: " + held + "\ns1 log:\n" + cluster.log("s1")).isNotEmpty();
            qemuIo("vol", "write -P 0x33 0 4k", "flush");
        } // the held write now reaches the slow node
        awaitGone(channelPort);
        qemuIo("vol", "flush");

        assertThat(storageStatus().path("epoch").asLong()).as("a new epoch began").isGreaterThan(epochBefore);
        for (String holder : holders.getValue()) {
            assertThat(firstBlock(holder, object)).as("the first block of " + holder + "'s copy").containsOnly((byte) 0x33);
        }
        List<String> nodes = List.copyOf(holders.getValue());
        assertThat(Files.mismatch(cluster.objectFile(nodes.get(0), object), cluster.objectFile(nodes.get(1), object)))
            .as("object " + object + " on " + nodes).isEqualTo(-1L);
    }

    /**
     * A copy holder keeps heartbeating while nothing reaches its object channel: the two other nodes
     * report it, the cluster cuts it off, and a write to its object goes on with the other copy
     * (before, it failed with EIO after 60 s); once its channel is reached again it is let back in and
     * its copy brought up to date. Needs root and iptables ({@code bin/test} installs it).
     */
    @Test
    void aNodeWhoseDataPathTheOthersCannotReachIsCutOffSoWritesGoOnAndComesBackWhenReachedAgain() throws Exception {
        Map.Entry<String, Set<String>> holders = threeNodesWithAnObjectInTwoCopies();
        String object = holders.getKey();
        String cut = otherHolder(holders);
        List<String> others = Set.of("s1", "s2", "s3").stream().filter(node -> !node.equals(cut)).sorted().toList();

        // the node heartbeats and answers its API, but its object channel takes nothing
        try (DroppedConnections dropped = DroppedConnections.everythingTo(objectChannelPort(cut))) {
            qemuIo("vol", "write -P 0x22 0 4k", "flush"); // waits for the cut, then goes on with the other copy
            JsonNode cutRow = storageNode(storageStatus(), cut);
            assertThat(cutRow.path("membership").asText()).isEqualTo("MEMBER");
            assertThat(cutRow.path("inEpoch").asBoolean()).as(cutRow.toString()).isFalse();
            assertThat(cutRow.path("cutOffBy")).as(cutRow.toString()).extracting(JsonNode::asText)
                .containsExactlyElementsOf(others);
            qemuIo("vol", "read -P 0x22 0 4k", "read -P 0x11 4k 4092k");
            assertThat(cluster.logLinesWith("s1", "cut off: " + cut)).as("s1 log:\n" + cluster.log("s1")).isNotEmpty();
        }

        awaitStorage(cut + " back in the epoch and every member recovered", status -> membersInEpoch(status) == 3
            && storageNode(status, cut).path("cutOffBy").isEmpty() && everyMemberRecovered(status));
        for (String holder : holders.getValue()) {
            assertThat(firstBlock(holder, object)).as("the first block of " + holder + "'s copy").containsOnly((byte) 0x22);
        }
    }

    /**
     * A copy holder's disk hangs (its object store is on a file system that is then frozen) while the
     * rest of the node answers: the node sees an operation on its store wait, says so, and the cluster
     * takes it out of the epoch, so writes to its object go on with the other copy (before, they failed
     * with EIO after 60 s); the writes its disk held land when it is thawed, and do not win over the
     * newer ones: once the node says its store answers it is let back in and its copy brought up to
     * date. Needs root and e2fsprogs ({@code bin/test} runs it as root).
     */
    @Test
    void aNodeWhoseDiskHangsTakesItselfOutSoWritesGoOnAndComesBackWhenItsDiskAnswers() throws Exception {
        // a capacity of their own: the ring must not change when one store moves to a smaller disk
        Map.Entry<String, Set<String>> holders = threeNodesWithAnObjectInTwoCopies(Map.of("HERD_STORAGE_CAPACITY", "128M"));
        String object = holders.getKey();
        String stuck = otherHolder(holders);
        cluster.kill(stuck);
        try (FrozenDisk disk = FrozenDisk.under(cluster.server(stuck).data.resolve("objects"), root.resolve("disk"))) {
            cluster.restart(stuck);
            awaitStorage(stuck + " back on its own disk and every member recovered",
                status -> membersInEpoch(status) == 3 && everyMemberRecovered(status));

            disk.freeze();
            qemuIo("vol", "write -P 0x22 0 4k", "flush"); // waits until the node takes itself out, then goes on
            JsonNode stuckRow = storageNode(storageStatus(), stuck);
            assertThat(stuckRow.path("membership").asText()).isEqualTo("MEMBER");
            assertThat(stuckRow.path("inEpoch").asBoolean()).as(stuckRow.toString()).isFalse();
            assertThat(stuckRow.path("stall").asText()).as(stuckRow.toString()).startsWith("an operation on its store has waited");
            qemuIo("vol", "write -P 0x33 0 4k", "flush", "read -P 0x33 0 4k", "read -P 0x11 4k 4092k");
            assertThat(cluster.logLinesWith(stuck, "this node's store does not answer"))
                .as(stuck + " log:\n" + cluster.log(stuck)).isNotEmpty();
            assertThat(cluster.logLinesWith("s1", "out: " + stuck + " (its store does not answer"))
                .as("s1 log:\n" + cluster.log("s1")).isNotEmpty();

            disk.thaw(); // what the disk held lands now, in an epoch that has ended
            awaitStorage(stuck + " back in the epoch and every member recovered", status -> membersInEpoch(status) == 3
                && storageNode(status, stuck).path("stall").isNull() && everyMemberRecovered(status));
            Map.Entry<String, Set<String>> now = awaitCopies(2, Set.of("s1", "s2", "s3"), 1).entrySet().iterator().next();
            for (String holder : now.getValue()) {
                assertThat(firstBlock(holder, object)).as("the first block of " + holder + "'s copy").containsOnly((byte) 0x33);
            }
            assertThat(now.getValue()).as("the copies are where they were").isEqualTo(holders.getValue());
        }
    }

    /**
     * Three nodes, s1 serving a 2-copy volume {@code vol} whose first 4 MiB were written with 0x11:
     * that object (the volume's only one) and the two nodes holding it.
     */
    private Map.Entry<String, Set<String>> threeNodesWithAnObjectInTwoCopies() throws Exception {
        return threeNodesWithAnObjectInTwoCopies(Map.of());
    }

    /** As {@link #threeNodesWithAnObjectInTwoCopies()}, every node with {@code environment}. */
    private Map.Entry<String, Set<String>> threeNodesWithAnObjectInTwoCopies(Map<String, String> environment) throws Exception {
        startCluster(3, environment);
        herd("volume", "create", "vol", "16M", "--copies", "2");
        qemuIo("vol", "write -P 0x11 0 4M", "flush");
        return awaitCopies(2, Set.of("s1", "s2", "s3"), 1).entrySet().iterator().next();
    }

    /** The first 4 KiB block of a node's copy of an object, from its file. */
    private byte[] firstBlock(String node, String object) throws IOException {
        byte[] block = new byte[4096];
        try (RandomAccessFile file = new RandomAccessFile(cluster.objectFile(node, object).toFile(), "r")) {
            file.readFully(block);
        }
        return block;
    }

    /** The port of a node's object channel, as its log names it. */
    private int objectChannelPort(String node) {
        String line = cluster.logLinesWith(node, "serves its copies to other nodes on").get(0);
        return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).strip());
    }

    private static NbdTools.ToolResult runQuietly(List<String> command) {
        try {
            return NbdTools.run(command);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until no connection to {@code port} is left with data on its way (the held write was delivered). */
    private static void awaitGone(int port) throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (System.nanoTime() < deadline) {
            if (DroppedConnections.unsent(port).isEmpty()) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("data to port " + port + " is still on its way: " + DroppedConnections.unsent(port));
    }

    // ---- storage state ----

    /** The storage status as the first running node reports it. */
    private JsonNode storageStatus() throws Exception {
        String running = cluster.names().stream().filter(name -> cluster.server(name).running()).findFirst().orElseThrow();
        HttpKv.Reply reply = cluster.clientOf(running).getJson("/v1/storage/status");
        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        return reply.body();
    }

    /** Starts {@code nodes} servers with {@code environment}, s1 serving NBD on a free port, and waits until all store objects. */
    private void startCluster(int nodes, Map<String, String> environment) throws Exception {
        nbdPort = HerdCluster.freePortPair();
        cluster = HerdCluster.start(root.resolve("cluster"), nodes, environment, "--nbd-address", "127.0.0.1:" + nbdPort);
        awaitStorage("all " + nodes + " nodes in the storage epoch", status -> membersInEpoch(status) == nodes);
    }

    private void awaitStorage(String what, Predicate<JsonNode> condition) throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = storageStatus();
            if (condition.test(last)) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("waited " + SETTLE.toSeconds() + " s for " + what + "; storage status: " + last);
    }

    private static int membersInEpoch(JsonNode status) {
        int members = 0;
        for (JsonNode node : status.path("nodes")) {
            members += node.path("inEpoch").asBoolean() ? 1 : 0;
        }
        return members;
    }

    private static boolean everyMemberRecovered(JsonNode status) {
        for (JsonNode node : status.path("nodes")) {
            if (node.path("inEpoch").asBoolean() && node.path("recoveredEpoch").asLong() < status.path("epoch").asLong()) {
                return false;
            }
        }
        return true;
    }

    private static JsonNode localOf(JsonNode status, String name) {
        return storageNode(status, name).path("local");
    }

    /** A node's row in the storage status; a missing node when it has none yet. */
    private static JsonNode storageNode(JsonNode status, String name) {
        for (JsonNode node : status.path("nodes")) {
            if (node.path("name").asText().equals(name)) {
                return node;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    /**
     * Waits until every object of the volume has exactly {@code copies} copies, all on {@code nodes},
     * counting the object files in each node's store; returns each object's holders.
     */
    private Map<String, Set<String>> awaitCopies(int copies, Set<String> nodes) throws Exception {
        return awaitCopies(copies, nodes, OBJECTS_WRITTEN);
    }

    private Map<String, Set<String>> awaitCopies(int copies, Set<String> nodes, int objects) throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        Map<String, Set<String>> holders = Map.of();
        while (System.nanoTime() < deadline) {
            holders = holders(nodes);
            boolean complete = holders.size() == objects
                && holders.values().stream().allMatch(h -> h.size() == copies);
            if (complete) {
                return holders;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("waited " + SETTLE.toSeconds() + " s for " + copies + " copies of " + objects
            + " objects on " + nodes + "; holders now: " + holders + "\nstorage: " + storageStatus()
            + logsAbout(holders, copies, nodes));
    }

    /** What each node logged about the objects that have another number of copies than {@code copies}. */
    private String logsAbout(Map<String, Set<String>> holders, int copies, Set<String> nodes) {
        StringBuilder logs = new StringBuilder();
        holders.forEach((object, holding) -> {
            if (holding.size() != copies) {
                for (String node : nodes) {
                    logs.append("\n").append(node).append(" on ").append(object).append(":");
                    cluster.logLinesWith(node, object).forEach(line -> logs.append("\n  ").append(line));
                }
            }
        });
        return logs.toString();
    }

    /** Object (hex id) to the nodes among {@code nodes} whose store holds it, from the files on disk. */
    private Map<String, Set<String>> holders(Set<String> nodes) throws IOException {
        Map<String, Set<String>> holders = new HashMap<>();
        for (String node : nodes) {
            for (Path file : cluster.objectFiles(node)) {
                holders.computeIfAbsent(file.getFileName().toString(), k -> new TreeSet<>()).add(node);
            }
        }
        return holders;
    }

    private static long copiesOn(Map<String, Set<String>> holders, String node) {
        return holders.values().stream().filter(h -> h.contains(node)).count();
    }


    // ---- tools ----

    private HerdCluster.CliResult herd(String... args) throws Exception {
        HerdCluster.CliResult result = cluster.cliAgainstCluster(args);
        assertThat(result.exitCode()).as(String.join(" ", args) + ": " + result).isZero();
        return result;
    }

    private void qemuIo(String export, String... commands) throws Exception {
        new NbdTools(cluster, nbdPort).qemuIo(export, commands);
    }
}
