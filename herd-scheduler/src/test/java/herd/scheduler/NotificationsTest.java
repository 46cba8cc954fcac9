package herd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.cib.CibXml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The data a clone's notify actions carry (what agents read as OCF_RESKEY_CRM_meta_notify_*), and
 * that the graph with notifications stays in execution order. The golden cases of the same names
 * pin the actions themselves.
 */
class NotificationsTest {
    private static final long NOW = 1_700_000_000L;

    private static Transition schedule(String goldenCase) throws IOException {
        String xml = Files.readString(Path.of("src/test/resources/golden", goldenCase, "cib.xml"), StandardCharsets.UTF_8);
        return Scheduler.schedule(CibXml.parse(xml).state(), NOW);
    }

    private static List<Transition.Action> notifies(Transition t, String type) {
        return t.actions().stream().filter(a -> a.task().equals("notify") && type.equals(a.meta().get("notify_type"))).toList();
    }

    @Test
    void aStartTellsTheRunningInstanceBeforeAndEveryInstanceAfter() throws IOException {
        Transition t = schedule("notify-clone-starts-two");

        assertThat(notifies(t, "pre")).extracting(Transition.Action::resource, Transition.Action::node)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("web:0", "n1"));
        assertThat(notifies(t, "post")).extracting(Transition.Action::node).containsExactlyInAnyOrder("n1", "n2", "n3");

        Map<String, String> meta = notifies(t, "pre").get(0).meta();
        assertThat(meta).containsEntry("notify_operation", "start")
            .containsEntry("notify_start_resource", "web:1 web:2")
            .containsEntry("notify_start_uname", "n2 n3")
            .containsEntry("notify_stop_resource", " ")
            .containsEntry("notify_stop_uname", " ")
            .containsEntry("notify_active_resource", "web:0")
            .containsEntry("notify_active_uname", "n1")
            .containsEntry("notify_inactive_resource", "web:1 web:2")
            .containsEntry("notify_promoted_resource", " ")
            .containsEntry("notify_all_uname", "n1 n2 n3");
        assertThat(notifies(t, "post").get(0).meta()).containsEntry("notify_type", "post")
            .containsEntry("notify_start_uname", "n2 n3");
    }

    @Test
    void aStopTellsEveryoneBeforeAndOnlyTheSurvivorsAfter() throws IOException {
        Transition t = schedule("notify-clone-stops-one");

        assertThat(notifies(t, "pre")).extracting(Transition.Action::node).containsExactlyInAnyOrder("n1", "n2", "n3");
        assertThat(notifies(t, "post")).extracting(Transition.Action::node).containsExactlyInAnyOrder("n1", "n2");
        assertThat(notifies(t, "pre").get(0).meta()).containsEntry("notify_operation", "stop")
            .containsEntry("notify_stop_uname", "n3")
            .containsEntry("notify_active_uname", "n1 n2 n3");
    }

    @Test
    void aPromotionListsThePromotedAndUnpromotedInstances() throws IOException {
        Transition t = schedule("notify-promotable-promotes");

        Map<String, String> meta = notifies(t, "pre").get(0).meta();
        assertThat(meta).containsEntry("notify_operation", "promote")
            .containsEntry("notify_promote_uname", "n2")
            .containsEntry("notify_unpromoted_uname", "n1 n2")
            .containsEntry("notify_slave_uname", "n1 n2")
            .containsEntry("notify_promoted_resource", " ")
            .containsEntry("notify_master_resource", " ");
    }

    @Test
    void aCloneWithoutNotifyGetsNoNotifications() throws IOException {
        Transition t = schedule("clone-without-notify-starts");

        assertThat(t.actions()).noneMatch(a -> a.task().equals("notify") || a.task().contains("notify_"));
        assertThat(t.actions()).anyMatch(a -> a.task().equals("start"));
    }

    @Test
    void everyOrderingPointsForwardInTheList() throws IOException {
        for (String c : List.of("notify-clone-starts-two", "notify-clone-stops-one", "notify-promotable-promotes")) {
            Transition t = schedule(c);
            for (int k = 0; k < t.actions().size(); k++) assertThat(t.actions().get(k).id()).isEqualTo(k);
            for (int[] o : t.orderings()) assertThat(o[0]).as(c + ": " + t.actions().get(o[0]) + " before " + t.actions().get(o[1])).isLessThan(o[1]);
        }
    }
}
