package herd.blockcore;

/** The named maxima of the block store's pure model, in one place so the API can quote them. */
public final class BlockLimits {
    private BlockLimits() {}

    /** Most copies a volume may ask for; each copy needs its own zone. */
    public static final int MAX_COPIES = 8;

    /** Largest volume: 64 TiB, i.e. 16 Mi objects of 4 MiB, which keeps one inode under 128 MiB. */
    public static final long MAX_VOLUME_SIZE_BYTES = 64L << 40;

    /** Volume sizes are whole 512-byte sectors, the unit NBD and qemu address. */
    public static final int SECTOR_BYTES = 512;

    /** Longest volume or snapshot name. */
    public static final int MAX_NAME_CHARS = 64;

    /** Longest snapshot tag (free text shown by listings). */
    public static final int MAX_TAG_CHARS = 256;

    /** Longest storage node or zone name. */
    public static final int MAX_NODE_NAME_CHARS = 253;

    /** Number of objects that hold a volume of the given size (the last one may be partly used). */
    public static long objectCount(long sizeBytes) {
        return (sizeBytes + ObjectId.OBJECT_SIZE_BYTES - 1) / ObjectId.OBJECT_SIZE_BYTES;
    }
}
