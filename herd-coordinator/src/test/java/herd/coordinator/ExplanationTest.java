package herd.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import herd.core.ClusterState;
import herd.core.cluster.NodeInfo;
import herd.core.command.Command;
import herd.core.command.Query;
import herd.core.command.QueryResult.ResourceStatusView;
import herd.core.resource.NodeMembership;
import herd.core.resource.OperationRecord;
import herd.scheduler.crm.ConfigurationEdits;
import herd.scheduler.crm.CrmShell;
import herd.scheduler.model.Configuration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `herd resource why`: scores and reasons from the configuration, the committed status and a schedule. */
class ExplanationTest {
    private static final long NOW_MILLIS = 1_800_000_000_000L;

    private final ClusterState state = new ClusterState();
    private long index;
    private long callId;

    private void cluster() {
        state.apply(++index, new Command.InitCluster("lab", node("n1", NodeInfo.Role.SERVER), false));
        state.apply(++index, new Command.RegisterNode(node("n2", NodeInfo.Role.WORKER)));
        state.apply(++index, new Command.RegisterNode(node("n3", NodeInfo.Role.WORKER)));
        for (String member : List.of("n1", "n2")) {
            state.apply(++index, new Command.SetNodeMembership(member, NodeMembership.MEMBER, "heartbeating"));
        }
    }

    private static NodeInfo node(String name, NodeInfo.Role role) {
        int port = 7000 + Integer.parseInt(name.substring(1)) * 10;
        return new NodeInfo(name, role, "127.0.0.1:" + port, role == NodeInfo.Role.SERVER ? "127.0.0.1:" + (port + 1) : null, null);
    }

    private void record(String node, String operation, int rc, int expectedRc) {
        state.apply(++index, new Command.RecordOperations(node, List.of(new OperationRecord("web", "ocf:heartbeat:Dummy",
            operation, 0, rc, 0, expectedRc, ++callId, NOW_MILLIS - 60_000, 5, rc == expectedRc ? "" : "failed"))));
    }

    private Explanation why(Configuration config) {
        ResourceStatusView view = (ResourceStatusView) state.query(new Query.ResourceStatus());
        return Explanation.explain(config, view, config.find("web").orElseThrow(), NOW_MILLIS);
    }

    private static Explanation.NodeReason on(Explanation explanation, String node) {
        return explanation.nodes().stream().filter(n -> n.node().equals(node)).findFirst().orElseThrow();
    }

    @Test
    void aRunningResourceShowsWhereItRunsAndWhyItCannotRunElsewhere() {
        cluster();
        record("n1", "start", 0, 0);
        Configuration config = ConfigurationEdits.ban(CrmShell.parse("primitive web ocf:heartbeat:Dummy\n"),
            List.of("n1", "n2", "n3"), "web", "n2", null, NOW_MILLIS / 1000);

        Explanation explanation = why(config);

        assertThat(explanation.resource()).isEqualTo("web");
        assertThat(explanation.runningOn()).containsExactly("n1");
        assertThat(explanation.role()).isEqualTo("Started");
        assertThat(on(explanation, "n2").score()).isEqualTo("-INFINITY");
        assertThat(on(explanation, "n2").reasons()).anyMatch(reason -> reason.startsWith("banned by cli-ban-web-on-n2"));
        assertThat(on(explanation, "n3").reasons()).anyMatch(reason -> reason.startsWith("offline"));
        assertThat(on(explanation, "n1").reasons()).isEmpty();
        assertThat(explanation.reasons()).isEmpty();
    }

    @Test
    void failuresAtTheMigrationThresholdAndAStoppedTargetRoleAreNamed() {
        cluster();
        record("n2", "start", 1, 0);
        Configuration config = CrmShell.parse("""
            primitive web ocf:heartbeat:Dummy meta migration-threshold=1 target-role=Stopped
            """);

        Explanation explanation = why(config);

        assertThat(explanation.runningOn()).as("a failed start counts as active until it is stopped").containsExactly("n2");
        assertThat(on(explanation, "n2").reasons())
            .anyMatch(reason -> reason.startsWith("fail count 1 reached migration-threshold 1"));
        assertThat(explanation.reasons()).anyMatch(reason -> reason.startsWith("target-role=Stopped"));
    }
}
