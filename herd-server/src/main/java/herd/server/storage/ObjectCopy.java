package herd.server.storage;

import herd.block.volume.AllocationMap;

/**
 * A whole copy of an object as one node sends it to another: the copy's stamp, which blocks hold
 * data, and those blocks' bytes one after the other (4 KiB each, in block order).
 */
record ObjectCopy(long stamp, AllocationMap allocation, byte[] allocatedBlocks) {}
