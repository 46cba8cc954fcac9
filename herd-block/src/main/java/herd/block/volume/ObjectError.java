package herd.block.volume;

import herd.blockcore.ObjectId;

/**
 * An operating error of an object operation: the caller handles it (reads absent objects as zeros,
 * answers a client with an errno, repairs a corrupt copy from another node). Broken invariants are
 * not errors of this kind; they throw.
 */
public sealed interface ObjectError {

    /** A sentence for logs and for the client. */
    String describe();

    /** The object has never been written (or was deleted). */
    record NotFound(ObjectId objectId) implements ObjectError {
        @Override
        public String describe() {
            return "object " + objectId + " does not exist";
        }
    }

    /**
     * A block's data does not match its checksum, or the whole copy is unusable: its file is gone
     * ({@link #FILE_MISSING}) or its trailer is damaged ({@link #TRAILER_DAMAGED}). Either way this
     * copy must not be served and is replaced from a good one (a whole copy by a whole copy).
     */
    record Corrupt(ObjectId objectId, int blockIndex) implements ObjectError {
        /** The block index of a copy whose file left the store's directory behind the store's back. */
        public static final int FILE_MISSING = -1;
        /** The block index of a copy whose trailer (every block's checksum, the allocation map) is damaged. */
        public static final int TRAILER_DAMAGED = -2;

        /** Whether the whole copy is unusable, not one block of it. */
        public boolean wholeCopy() {
            return blockIndex < 0;
        }

        @Override
        public String describe() {
            if (blockIndex == FILE_MISSING) {
                return "object " + objectId + ": its file is missing from the store (removed outside herd, or "
                        + "lost by the file system)";
            }
            if (blockIndex == TRAILER_DAMAGED) {
                return "object " + objectId + ": its trailer (the checksums and allocation map of its blocks) is "
                        + "damaged, so none of its blocks can be trusted";
            }
            return "object " + objectId + " block " + blockIndex + " (bytes "
                    + (long) blockIndex * AllocationMap.BLOCK_SIZE_BYTES + "..+"
                    + AllocationMap.BLOCK_SIZE_BYTES + ") fails its checksum";
        }
    }

    /** The write needs more space than the store has left; nothing was changed. */
    record NoSpace(long requestedBytes, long freeBytes) implements ObjectError {
        @Override
        public String describe() {
            return "no space left: the write needs " + requestedBytes + " new bytes, the store has "
                    + freeBytes + " free";
        }
    }

    /** The disk refused an operation (EIO from the kernel, a damaged trailer, ...). */
    record IoFailure(ObjectId objectId, String detail) implements ObjectError {
        @Override
        public String describe() {
            return "I/O error on object " + objectId + ": " + detail;
        }
    }
}
