package herd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.crm.ConfigurationEdits;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Expression;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.NodeState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Moves and bans with a lifetime end by themselves: the scheduler evaluates their date rule against
 * the time it is given, with Pacemaker's semantics (lt: before the end; gt: after the start;
 * in_range: start and end included).
 */
class OperatorLifetimeTest {
    private static final List<String> NODES = List.of("n1", "n2");
    private static final long NOW_SEC = Instant.parse("2026-11-23T18:00:00Z").getEpochSecond();

    private static Configuration withNodes(Configuration c) {
        List<NodeConfig> nodes = NODES.stream().map(n -> new NodeConfig(n, n, "member", Map.of(), Map.of(), null)).toList();
        return new Configuration(Map.of("stonith-enabled", "false"), c.resourceDefaults(), c.operationDefaults(), nodes,
            c.resources(), c.locations(), c.colocations(), c.orders(), c.tickets());
    }

    private static String placement(Configuration config, long nowSec) {
        List<NodeState> states = NODES.stream()
            .map(n -> new NodeState(n, n, true, "online", "member", "member", false, Map.of(), List.of())).toList();
        Transition t = Scheduler.schedule(new ClusterState(withNodes(config), states, true), nowSec);
        return t.revised().stream().filter(p -> p.resource().equals("web")).findFirst().orElseThrow().nextNode();
    }

    @Test
    void aTimedMoveHoldsUntilItsEndAndThenExpires() {
        Configuration base = CrmShell.parse("primitive web ocf:heartbeat:Dummy\nlocation web-likes-n1 web 100: n1\n");
        assertThat(placement(base, NOW_SEC)).isEqualTo("n1");
        Configuration moved = ConfigurationEdits.move(base, NODES, "web", "n2", Duration.ofMinutes(10), NOW_SEC);
        assertThat(placement(moved, NOW_SEC)).isEqualTo("n2");
        assertThat(placement(moved, NOW_SEC + 599)).isEqualTo("n2");
        assertThat(placement(moved, NOW_SEC + 600)).as("expired at its end").isEqualTo("n1");
    }

    @Test
    void aTimedBanHoldsUntilItsEndAndThenExpires() {
        Configuration base = CrmShell.parse("primitive web ocf:heartbeat:Dummy\nlocation web-likes-n1 web 100: n1\n");
        Configuration banned = ConfigurationEdits.ban(base, NODES, "web", "n1", Duration.ofHours(1), NOW_SEC);
        assertThat(placement(banned, NOW_SEC + 3599)).isEqualTo("n2");
        assertThat(placement(banned, NOW_SEC + 3600)).isEqualTo("n1");
        Configuration permanent = ConfigurationEdits.ban(base, NODES, "web", "n1", null, NOW_SEC);
        assertThat(placement(permanent, NOW_SEC + 10 * 365 * 86_400L)).isEqualTo("n2");
    }

    @Test
    void dateExpressionsFollowPacemaker() {
        long end = NOW_SEC + 60;
        String endText = Instant.ofEpochSecond(end).toString();
        String startText = Instant.ofEpochSecond(NOW_SEC).toString();
        Expression.Date lt = new Expression.Date("e", "lt", null, endText, null, null);
        assertThat(Rules.date(lt, end - 1)).isTrue();
        assertThat(Rules.date(lt, end)).isFalse();
        Expression.Date gt = new Expression.Date("e", "gt", startText, null, null, null);
        assertThat(Rules.date(gt, NOW_SEC)).isFalse();
        assertThat(Rules.date(gt, NOW_SEC + 1)).isTrue();
        Expression.Date range = new Expression.Date("e", "in_range", startText, endText, null, null);
        assertThat(Rules.date(range, NOW_SEC - 1)).isFalse();
        assertThat(Rules.date(range, NOW_SEC)).isTrue();
        assertThat(Rules.date(range, end)).isTrue();
        assertThat(Rules.date(range, end + 1)).isFalse();
        Expression.Date withDuration = new Expression.Date("e", "in_range", startText, null, Map.of("minutes", "1"), null);
        assertThat(Rules.date(withDuration, end)).isTrue();
        assertThat(Rules.date(withDuration, end + 1)).isFalse();
        assertThat(Rules.parseDate("2026-11-23 18:00:00 +00:00")).isEqualTo(NOW_SEC);
        assertThat(Rules.parseDate("2026-11-23T19:00:00+01:00")).isEqualTo(NOW_SEC);
    }
}
