package herd.block.nbd;

/**
 * A run of bytes with one allocation status ({@code base:allocation}): a hole is not allocated,
 * zero reads as zeros.
 */
public record Extent(long lengthBytes, boolean hole, boolean zero) {
    public static final int NBD_STATE_HOLE = 1;
    public static final int NBD_STATE_ZERO = 2;

    public Extent {
        if (lengthBytes <= 0) {
            throw new IllegalArgumentException("an extent has a positive length, got " + lengthBytes);
        }
    }

    public int nbdFlags() {
        return (hole ? NBD_STATE_HOLE : 0) | (zero ? NBD_STATE_ZERO : 0);
    }

    public boolean sameStatus(Extent other) {
        return hole == other.hole && zero == other.zero;
    }

    public Extent extendedBy(long moreBytes) {
        return new Extent(lengthBytes + moreBytes, hole, zero);
    }
}
