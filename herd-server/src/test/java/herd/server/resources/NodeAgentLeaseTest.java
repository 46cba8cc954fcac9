package herd.server.resources;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the lease loop wakes next: {@link NodeAgent#untilLeaseRunsOut}. */
class NodeAgentLeaseTest {
    private static final long LEASE_MILLIS = 5_000;

    @Test
    void aLeaseAboutToRunOutIsCheckedJustAfterItDoes() {
        assertThat(NodeAgent.untilLeaseRunsOut(4_700, LEASE_MILLIS)).isEqualTo(301);
        assertThat(NodeAgent.untilLeaseRunsOut(LEASE_MILLIS, LEASE_MILLIS)).isEqualTo(1);
    }

    @Test
    void aFreshLeaseIsStillCheckedAtLeastEveryMaximumSleep() {
        assertThat(NodeAgent.untilLeaseRunsOut(0, LEASE_MILLIS)).isEqualTo(NodeAgent.LEASE_CHECK_MAX_SLEEP_MILLIS);
        // the wall clock stepped back: the acknowledgement looks as if it came from the future
        assertThat(NodeAgent.untilLeaseRunsOut(-60_000, LEASE_MILLIS)).isEqualTo(NodeAgent.LEASE_CHECK_MAX_SLEEP_MILLIS);
    }

    @Test
    void aLeaseAlreadyOverIsCheckedAgainAtOnce() {
        assertThat(NodeAgent.untilLeaseRunsOut(LEASE_MILLIS + 10, LEASE_MILLIS)).isEqualTo(1);
    }
}
