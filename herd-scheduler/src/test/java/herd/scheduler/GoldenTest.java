package herd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.simulate.Simulator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden-file scheduler cases written for herd: each folder under {@code golden/} holds {@code cib.xml}
 * (configuration and status in) and {@code expected.txt} (scores, transition summary, actions and
 * revised status out). Run with {@code -Dherd.golden.update=true} (or HERD_GOLDEN_UPDATE=1) to rewrite
 * the expected files after an intended change; review the diff before committing it.
 */
class GoldenTest {
    private static final Path ROOT = Path.of("src/test/resources/golden");
    /** The time the cases are scheduled at when a CIB records no execution-date. */
    private static final long NOW_SEC = 1_700_000_000L;

    static boolean updating() {
        return Boolean.getBoolean("herd.golden.update") || "1".equals(System.getenv("HERD_GOLDEN_UPDATE"));
    }

    @TestFactory
    Stream<DynamicTest> goldenCases() throws IOException {
        List<Path> cases;
        try (Stream<Path> s = Files.list(ROOT)) {
            cases = s.filter(Files::isDirectory).sorted().toList();
        }
        assertThat(cases).as("golden cases under " + ROOT).isNotEmpty();
        return cases.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> check(dir)));
    }

    private static void check(Path dir) throws IOException {
        String cib = Files.readString(dir.resolve("cib.xml"), StandardCharsets.UTF_8);
        String actual = Simulator.simulate(cib, new Simulator.Options(true, List.of(), List.of()), NOW_SEC);
        Path expectedFile = dir.resolve("expected.txt");
        if (updating() || !Files.exists(expectedFile)) {
            Files.writeString(expectedFile, actual, StandardCharsets.UTF_8);
            if (!updating()) throw new AssertionError(expectedFile + " did not exist; wrote it, review and commit it");
            return;
        }
        assertThat(actual).as(dir.getFileName() + " (rerun with -Dherd.golden.update=true to accept)")
                .isEqualTo(Files.readString(expectedFile, StandardCharsets.UTF_8));
    }
}
