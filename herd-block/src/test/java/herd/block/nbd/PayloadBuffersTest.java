package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PayloadBuffersTest {

    @Test
    void aBufferGivenBackIsTakenAgainAndDirectMemoryStaysWithinItsBudget() {
        PayloadBuffers buffers = new PayloadBuffers();
        ByteBuffer first = buffers.take(1 << 20);
        assertThat(first.isDirect()).isTrue();
        assertThat(first.position()).isZero();
        assertThat(first.limit()).isEqualTo(1 << 20);
        buffers.giveBack(first);
        ByteBuffer again = buffers.take(1_000_000);
        assertThat(again).isSameAs(first);
        assertThat(again.limit()).as("exactly the length asked for").isEqualTo(1_000_000);

        List<ByteBuffer> held = new ArrayList<>(List.of(again));
        while (held.stream().filter(ByteBuffer::isDirect).count() * (1 << 20) < PayloadBuffers.DIRECT_BYTES_MAX) {
            held.add(buffers.take(1 << 20));
        }
        ByteBuffer overBudget = buffers.take(1 << 20);
        assertThat(overBudget.isDirect()).as("beyond the budget: a heap buffer").isFalse();
        assertThat(overBudget.remaining()).isEqualTo(1 << 20);
    }

    @Test
    void theBufferGivenBackLastIsTakenFirst() {
        PayloadBuffers buffers = new PayloadBuffers();
        ByteBuffer older = buffers.take(1 << 20);
        ByteBuffer newer = buffers.take(1 << 20);
        buffers.giveBack(older);
        buffers.giveBack(newer);
        assertThat(buffers.take(1 << 20)).as("the one whose bytes are most likely still in the CPU's cache").isSameAs(newer);
        assertThat(buffers.take(1 << 20)).isSameAs(older);
    }
}
