package herd.block.volume;

import herd.blockcore.ObjectId;
import java.util.ArrayList;
import java.util.List;

/** Maps byte ranges of a volume onto its 4 MiB objects. Pure. */
public final class ObjectRanges {
    private ObjectRanges() {}

    /** Objects a volume of this size can address: the object index is 32 bits. */
    public static final long MAX_VOLUME_SIZE_BYTES = (1L << 32) * ObjectId.OBJECT_SIZE_BYTES;

    /**
     * The slices, in order, that {@code length} bytes from {@code offset} cover; empty for a zero
     * length. The caller has checked the range against the volume's size.
     */
    public static List<ObjectSlice> split(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > MAX_VOLUME_SIZE_BYTES) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " is outside any volume");
        }
        List<ObjectSlice> slices = new ArrayList<>();
        long position = offset;
        long end = offset + length;
        while (position < end) {
            int objectIndex = (int) (position / ObjectId.OBJECT_SIZE_BYTES);
            int offsetInObject = (int) (position % ObjectId.OBJECT_SIZE_BYTES);
            int sliceLength = (int) Math.min(end - position, ObjectId.OBJECT_SIZE_BYTES - offsetInObject);
            slices.add(new ObjectSlice(objectIndex, offsetInObject, sliceLength, position - offset));
            position += sliceLength;
        }
        return slices;
    }
}
