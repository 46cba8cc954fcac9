package herd.block.nbd;

import herd.block.Done;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What the NBD server exports: a range of bytes. Offsets are checked by the server against
 * {@link #sizeBytes()} before a call; implementations check again and answer EINVAL. All
 * connections to one export share one device, so a flush on any connection covers writes completed
 * on every connection (the server advertises CAN_MULTI_CONN). Safe for concurrent use.
 */
public interface BlockDevice {

    long sizeBytes();

    boolean readOnly();

    /** Fills {@code destination} (position to limit, advancing the position) from {@code offset}. */
    DeviceResult<Done> read(long offset, ByteBuffer destination);

    /** Writes {@code source} (position to limit) at {@code offset}; with {@code fua}, durably. */
    DeviceResult<Done> write(long offset, ByteBuffer source, boolean fua);

    /** Makes every write completed before this call durable. */
    DeviceResult<Done> flush();

    /** Releases the range (advisory; reads afterwards return old data or zeros). */
    DeviceResult<Done> trim(long offset, long length, boolean fua);

    /** Makes the range read as zeros; with {@code noHole} it stays allocated. */
    DeviceResult<Done> writeZeroes(long offset, long length, boolean noHole, boolean fua);

    /**
     * The allocation status of a prefix of the range, at most {@code maxExtents} extents, at least
     * one, together no longer than {@code length}.
     */
    DeviceResult<List<Extent>> blockStatus(long offset, long length, int maxExtents);
}
