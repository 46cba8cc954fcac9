package herd.block.volume;

import herd.block.Done;
import herd.blockcore.ObjectId;
import java.nio.ByteBuffer;
import java.util.Collection;

/**
 * The port through which a volume reaches its objects. The local {@code ObjectStore} implements it
 * today (one copy); the replicated client will implement it by writing every copy. Offsets and
 * lengths are within one object: {@code 0 <= offsetInObject} and {@code offsetInObject + length <=
 * ObjectId.OBJECT_SIZE_BYTES}; callers split larger requests. Implementations are safe for
 * concurrent use.
 */
public interface ObjectIo {

    /**
     * Fills {@code destination} (from its position to its limit, advancing the position) with the
     * object's bytes from {@code offsetInObject}. Blocks never written read as zeros; an object that
     * does not exist fails with {@link ObjectError.NotFound}.
     */
    ObjectResult<Done> read(ObjectId objectId, int offsetInObject, ByteBuffer destination);

    /**
     * Writes {@code source} (position to limit, advancing the position) at {@code offsetInObject},
     * creating the object if needed. The data reaches at least the page cache; {@link #flush} makes
     * it durable. Fails with {@link ObjectError.NoSpace} without changing anything when the store
     * would exceed its capacity.
     */
    ObjectResult<Done> write(ObjectId objectId, int offsetInObject, ByteBuffer source);

    /**
     * Makes the range read as zeros. With {@code allocate} the blocks stay allocated (the client
     * asked for no hole); without it whole blocks are released. An absent object stays absent unless
     * {@code allocate}.
     */
    ObjectResult<Done> writeZeroes(ObjectId objectId, int offsetInObject, int length, boolean allocate);

    /** Releases the whole blocks inside the range (advisory: partial blocks keep their data). */
    ObjectResult<Done> trim(ObjectId objectId, int offsetInObject, int length);

    /** Which blocks hold data; {@link ObjectError.NotFound} for an absent object. */
    ObjectResult<AllocationMap> allocation(ObjectId objectId);

    /** Makes every completed write, zeroing and trim of these objects durable. */
    ObjectResult<Done> flush(Collection<ObjectId> objectIds);
}
