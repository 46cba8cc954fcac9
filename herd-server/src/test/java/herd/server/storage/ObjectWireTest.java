package herd.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import herd.block.volume.AllocationMap;
import herd.block.volume.ObjectError;
import herd.blockcore.ObjectId;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ObjectWireTest {

    @Test
    void aCopyRoundTripsWithItsStampAllocationAndBlocks() {
        long[] words = new long[AllocationMap.WORDS];
        words[0] = 0b101;
        words[15] = 1L << 63;
        AllocationMap allocation = AllocationMap.ofWords(words);
        byte[] blocks = new byte[3 * AllocationMap.BLOCK_SIZE_BYTES];
        blocks[0] = 1;
        blocks[blocks.length - 1] = 9;
        ObjectCopy decoded = ObjectWire.decodeCopy(ObjectWire.encodeCopy(new ObjectCopy(42, allocation, blocks)));
        assertThat(decoded.stamp()).isEqualTo(42);
        assertThat(decoded.allocation()).isEqualTo(allocation);
        assertThat(decoded.allocatedBlocks()).isEqualTo(blocks);
    }

    @Test
    void aCopyWhoseBlocksDoNotMatchItsAllocationIsRefused() {
        long[] words = new long[AllocationMap.WORDS];
        words[0] = 0b11;
        byte[] encoded = ObjectWire.encodeCopy(new ObjectCopy(1, AllocationMap.ofWords(words),
            new byte[2 * AllocationMap.BLOCK_SIZE_BYTES]));
        byte[] truncated = java.util.Arrays.copyOf(encoded, encoded.length - 1);
        assertThatThrownBy(() -> ObjectWire.decodeCopy(truncated)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("2 allocated blocks");
    }

    @Test
    void stampsAndErrorsRoundTrip() {
        assertThat(ObjectWire.decodeStamp(ObjectWire.encodeStamp(new ObjectService.StampInfo(-1, false))))
            .isEqualTo(new ObjectService.StampInfo(-1, false));
        ObjectId id = ObjectId.of(3, 4);
        assertThat(ObjectWire.<Object>decodeError(500, Optional.of("corrupt 17"), "bad", "n2", id))
            .isEqualTo(new CopyReply.Failed<>(new ObjectError.Corrupt(id, 17)));
        assertThat(ObjectWire.<Object>decodeError(507, Optional.of("no-space 4096 0"), "full", "n2", id))
            .isEqualTo(new CopyReply.Failed<>(new ObjectError.NoSpace(4096, 0)));
        assertThat(ObjectWire.<Object>decodeError(404, Optional.of("not-found"), "gone", "n2", id))
            .isEqualTo(new CopyReply.Failed<>(new ObjectError.NotFound(id)));
        assertThat(ObjectWire.<Object>decodeError(409, Optional.of("retry"), "epoch 3 is over", "n2", id))
            .isEqualTo(CopyReply.retry("node n2: epoch 3 is over"));
        assertThat(ObjectWire.<Object>decodeError(401, Optional.empty(), "unauthorized", "n2", id))
            .isInstanceOf(CopyReply.Retry.class);
    }
}
