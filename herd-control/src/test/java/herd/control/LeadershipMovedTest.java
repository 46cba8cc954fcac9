package herd.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.junit.jupiter.api.Test;

/**
 * A leader's linearizable read is asked again through the client when its own Raft server says it
 * no longer leads (or does not yet). The reason arrives wrapped by {@link ControlPlaneClient}'s
 * answer; these tests feed real failed replies through that answer, as {@code readOnce} sees them.
 */
class LeadershipMovedTest {
    private static final UUID GROUP = UUID.randomUUID();
    private static final RaftGroupMemberId SELF =
            RaftGroupMemberId.valueOf(RaftPeerId.valueOf("s1"), RaftGroupId.valueOf(GROUP));

    @Test
    void aReadRefusedBecauseTheServerNoLongerLeadsIsAskedAgain() throws Exception {
        assertThat(ControlPlaneNode.leadershipMoved(failureOfLocalRead(new NotLeaderException(SELF, null, List.of()))))
                .isTrue();
        assertThat(ControlPlaneNode.leadershipMoved(failureOfLocalRead(new LeaderNotReadyException(SELF)))).isTrue();
    }

    @Test
    void aReadThatFailedForAnyOtherReasonIsNot() throws Exception {
        assertThat(ControlPlaneNode.leadershipMoved(failureOfLocalRead(
                new StateMachineException(SELF, new IllegalArgumentException("malformed query"))))).isFalse();
        assertThat(ControlPlaneNode.leadershipMoved(failureOfLocalRead(new ReadException("read index timed out")))).isFalse();
    }

    /** What {@code readOnce} receives when its own Raft server answered with {@code reason}. */
    private static Throwable failureOfLocalRead(RaftException reason) throws Exception {
        final RaftClientReply reply = RaftClientReply.newBuilder()
                .setClientId(ClientId.randomId())
                .setServerId(SELF)
                .setCallId(1)
                .setSuccess(false)
                .setException(reason)
                .build();
        try (ControlPlaneClient client = ControlPlaneClient.connect(GROUP, Map.of("s1", "127.0.0.1:1"), null)) {
            final CompletableFuture<byte[]> answer = client.answerLocal(CompletableFuture.completedFuture(reply),
                    "linearizable read", "nothing was changed");
            final Throwable failure = answer.handle((bytes, error) -> error).join();
            assertThat(failure).as("a failed reply fails the answer").isNotNull();
            return failure;
        }
    }
}
