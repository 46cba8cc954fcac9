package herd.blockcore;

/**
 * Names one 4 MiB object of volume data, as Sheepdog does: the owning volume's id in the high 32 bits
 * and the object's index within the volume in the low 32 bits. The volume id is the volume (or
 * snapshot) that wrote the data, which after a clone or snapshot need not be the volume being read.
 */
public record ObjectId(long value) implements Comparable<ObjectId> {
    /** Bytes of volume data per object. */
    public static final int OBJECT_SIZE_BYTES = 4 * 1024 * 1024;

    public static ObjectId of(int volumeId, int index) {
        return new ObjectId(((long) volumeId << 32) | (index & 0xFFFF_FFFFL));
    }

    public int volumeId() {
        return (int) (value >>> 32);
    }

    public int index() {
        return (int) value;
    }

    /** Sixteen hex digits: fixed width, so file names sort by volume, then index. */
    public String hex() {
        return String.format("%016x", value);
    }

    public static ObjectId parseHex(String hex) {
        return new ObjectId(Long.parseUnsignedLong(hex, 16));
    }

    @Override
    public int compareTo(ObjectId other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return hex();
    }
}
