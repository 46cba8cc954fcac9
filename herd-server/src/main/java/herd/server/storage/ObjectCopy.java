package herd.server.storage;

import herd.block.volume.AllocationMap;
import java.nio.ByteBuffer;

/**
 * A whole copy of an object as one node sends it to another: the copy's stamp, which blocks hold
 * data, and those blocks' bytes one after the other (4 KiB each, in block order).
 */
record ObjectCopy(long stamp, AllocationMap allocation, byte[] allocatedBlocks) {
    /** The bytes of an allocated block. */
    ByteBuffer block(int blockIndex) {
        if (!allocation.isAllocated(blockIndex)) {
            throw new IllegalArgumentException("block " + blockIndex + " holds no data in this copy");
        }
        int before = 0;
        for (int block = 0; block < blockIndex; block++) {
            before += allocation.isAllocated(block) ? 1 : 0;
        }
        return ByteBuffer.wrap(allocatedBlocks, before * AllocationMap.BLOCK_SIZE_BYTES, AllocationMap.BLOCK_SIZE_BYTES);
    }
}
