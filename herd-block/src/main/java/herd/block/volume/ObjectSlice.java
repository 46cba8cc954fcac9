package herd.block.volume;

/**
 * The part of a volume request that falls in one object: object {@code objectIndex} of the volume,
 * {@code length} bytes from {@code offsetInObject}, which are the request's bytes from
 * {@code offsetInRequest}.
 */
public record ObjectSlice(int objectIndex, int offsetInObject, int length, long offsetInRequest) {}
