package herd.block.volume;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class ObjectRangesTest {
    private static final long OBJECT = ObjectId.OBJECT_SIZE_BYTES;

    @Property
    void slicesTileTheRangeWithinObjects(@ForAll @LongRange(max = 1L << 40) long offset,
            @ForAll @LongRange(max = 64L << 20) long length) {
        List<ObjectSlice> slices = ObjectRanges.split(offset, length);

        long covered = 0;
        for (ObjectSlice slice : slices) {
            assertThat(slice.length()).isPositive();
            assertThat(slice.offsetInObject() + (long) slice.length()).isLessThanOrEqualTo(OBJECT);
            assertThat(slice.offsetInRequest()).isEqualTo(covered);
            assertThat(slice.objectIndex() * OBJECT + slice.offsetInObject()).isEqualTo(offset + covered);
            covered += slice.length();
        }
        assertThat(covered).isEqualTo(length);
        assertThat(slices.size()).isLessThanOrEqualTo((int) (length / OBJECT) + 2);
    }

    @Test
    void aRequestAcrossABoundaryIsSplitThere() {
        assertThat(ObjectRanges.split(OBJECT - 512, 1024)).containsExactly(
                new ObjectSlice(0, (int) OBJECT - 512, 512, 0),
                new ObjectSlice(1, 0, 512, 512));
    }

    @Test
    void theLastObjectIndexIsUnsigned() {
        assertThat(ObjectRanges.split(ObjectRanges.MAX_VOLUME_SIZE_BYTES - 1, 1))
                .containsExactly(new ObjectSlice(-1, (int) OBJECT - 1, 1, 0));
    }
}
