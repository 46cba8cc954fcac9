package herd.block.volume;

import herd.block.Done;
import herd.block.nbd.BlockDevice;
import herd.block.nbd.DeviceError;
import herd.block.nbd.DeviceResult;
import herd.block.nbd.Errno;
import herd.block.nbd.Extent;
import herd.blockcore.ObjectId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A volume as a block device: byte ranges map onto the volume's 4 MiB objects
 * ({@code ObjectId.of(volumeId, offset / 4 MiB)}), requests that cross an object boundary are
 * split, objects never written read as zeros. Remembers which objects were written since the last
 * flush so that a flush syncs only those.
 *
 * <p>A request that spans several objects is not atomic: if a later object fails (no space), the
 * earlier ones keep the new data. NBD allows this: after a failed write the range's content is
 * unspecified.
 */
public final class VolumeDevice implements BlockDevice {
    private static final byte[] ZEROS = new byte[64 * 1024];

    private final String name;
    private final long sizeBytes;
    private final int volumeId;
    private final ObjectIo io;
    private final boolean readOnly;
    /** Objects changed since their last flush, and the flushes under way. */
    private final UnsyncedObjects unflushed = new UnsyncedObjects();

    public VolumeDevice(String name, long sizeBytes, int volumeId, ObjectIo io) {
        this(name, sizeBytes, volumeId, io, false);
    }

    public VolumeDevice(String name, long sizeBytes, int volumeId, ObjectIo io, boolean readOnly) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a volume needs a name");
        }
        if (sizeBytes <= 0 || sizeBytes > ObjectRanges.MAX_VOLUME_SIZE_BYTES) {
            throw new IllegalArgumentException("volume " + name + ": size must be between 1 and "
                    + ObjectRanges.MAX_VOLUME_SIZE_BYTES + " bytes, got " + sizeBytes);
        }
        this.name = name;
        this.sizeBytes = sizeBytes;
        this.volumeId = volumeId;
        this.io = io;
        this.readOnly = readOnly;
    }

    public String name() {
        return name;
    }

    public int volumeId() {
        return volumeId;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public DeviceResult<Done> read(long offset, ByteBuffer destination) {
        int length = destination.remaining();
        DeviceResult<Done> rangeError = checkRange(offset, length);
        if (rangeError != null) {
            return rangeError;
        }
        int start = destination.position();
        for (ObjectSlice slice : ObjectRanges.split(offset, length)) {
            ByteBuffer part = destination.slice(start + (int) slice.offsetInRequest(), slice.length());
            ObjectResult<Done> result = io.read(objectId(slice), slice.offsetInObject(), part);
            if (result instanceof ObjectResult.Failed<Done>(ObjectError error)) {
                if (error instanceof ObjectError.NotFound) {
                    zeroFill(destination, start + (int) slice.offsetInRequest(), slice.length());
                } else {
                    return failure(error);
                }
            }
        }
        destination.position(start + length);
        return DeviceResult.done();
    }

    @Override
    public DeviceResult<Done> write(long offset, ByteBuffer source, boolean fua) {
        int length = source.remaining();
        DeviceResult<Done> refusal = checkWritable(offset, length);
        if (refusal != null) {
            return refusal;
        }
        int start = source.position();
        List<ObjectId> written = new ArrayList<>();
        for (ObjectSlice slice : ObjectRanges.split(offset, length)) {
            ObjectId objectId = objectId(slice);
            ByteBuffer part = source.slice(start + (int) slice.offsetInRequest(), slice.length());
            ObjectResult<Done> result = io.write(objectId, slice.offsetInObject(), part);
            unflushed.mark(objectId);
            if (result instanceof ObjectResult.Failed<Done>(ObjectError error)) {
                return failure(error);
            }
            written.add(objectId);
        }
        source.position(start + length);
        return fua ? flushObjects(written) : DeviceResult.done();
    }

    @Override
    public DeviceResult<Done> writeZeroes(long offset, long length, boolean noHole, boolean fua) {
        DeviceResult<Done> refusal = checkWritable(offset, length);
        if (refusal != null) {
            return refusal;
        }
        List<ObjectId> changed = new ArrayList<>();
        for (ObjectSlice slice : ObjectRanges.split(offset, length)) {
            ObjectId objectId = objectId(slice);
            ObjectResult<Done> result = io.writeZeroes(objectId, slice.offsetInObject(), slice.length(), noHole);
            unflushed.mark(objectId);
            if (result instanceof ObjectResult.Failed<Done>(ObjectError error)) {
                return failure(error);
            }
            changed.add(objectId);
        }
        return fua ? flushObjects(changed) : DeviceResult.done();
    }

    @Override
    public DeviceResult<Done> trim(long offset, long length, boolean fua) {
        DeviceResult<Done> refusal = checkWritable(offset, length);
        if (refusal != null) {
            return refusal;
        }
        List<ObjectId> changed = new ArrayList<>();
        for (ObjectSlice slice : ObjectRanges.split(offset, length)) {
            ObjectId objectId = objectId(slice);
            ObjectResult<Done> result = io.trim(objectId, slice.offsetInObject(), slice.length());
            unflushed.mark(objectId);
            if (result instanceof ObjectResult.Failed<Done>(ObjectError error)) {
                return failure(error);
            }
            changed.add(objectId);
        }
        return fua ? flushObjects(changed) : DeviceResult.done();
    }

    /**
     * Syncs every object changed before this call, and waits for flushes under way that took some
     * ({@link UnsyncedObjects}); a write that lands during the sync marks its object for the next flush. The I/O layer
     * is asked even when this device changed nothing: a volume served in the cluster gets a new
     * device at a snapshot or resize while connections opened before it keep the old one, and a
     * flush on any connection must make every connection's acknowledged writes durable (the I/O
     * layer they share tracks them all).
     */
    @Override
    public DeviceResult<Done> flush() {
        return deviceResult(unflushed.syncAll(io::flush));
    }

    @Override
    public DeviceResult<List<Extent>> blockStatus(long offset, long length, int maxExtents) {
        DeviceResult<Done> rangeError = checkRange(offset, length);
        if (rangeError instanceof DeviceResult.Failed<Done>(var error)) {
            return new DeviceResult.Failed<>(error);
        }
        if (length == 0 || maxExtents < 1) {
            return DeviceResult.failed(Errno.EINVAL, "block status needs a positive length and extent count");
        }
        ExtentCollector extents = new ExtentCollector(maxExtents);
        for (ObjectSlice slice : ObjectRanges.split(offset, length)) {
            AllocationMap map;
            switch (io.allocation(objectId(slice))) {
                case ObjectResult.Ok<AllocationMap>(AllocationMap found) -> map = found;
                case ObjectResult.Failed<AllocationMap>(ObjectError.NotFound absent) -> map = AllocationMap.EMPTY;
                case ObjectResult.Failed<AllocationMap>(ObjectError error) -> {
                    return new DeviceResult.Failed<>(toDeviceError(error));
                }
            }
            if (!extents.addSlice(map, slice)) {
                break;
            }
        }
        return DeviceResult.ok(extents.extents());
    }

    /** Collects extents block by block, merging neighbours of equal status, up to a maximum. */
    private static final class ExtentCollector {
        private final int maxExtents;
        private final List<Extent> extents = new ArrayList<>();

        ExtentCollector(int maxExtents) {
            this.maxExtents = maxExtents;
        }

        /** False once the maximum is reached and the rest of the range is left out. */
        boolean addSlice(AllocationMap map, ObjectSlice slice) {
            int position = slice.offsetInObject();
            int end = slice.offsetInObject() + slice.length();
            while (position < end) {
                int block = position / AllocationMap.BLOCK_SIZE_BYTES;
                int blockEnd = Math.min(end, (block + 1) * AllocationMap.BLOCK_SIZE_BYTES);
                boolean hole = !map.isAllocated(block);
                if (!add(new Extent(blockEnd - position, hole, hole))) {
                    return false;
                }
                position = blockEnd;
            }
            return true;
        }

        private boolean add(Extent next) {
            int last = extents.size() - 1;
            if (last >= 0 && extents.get(last).sameStatus(next)) {
                extents.set(last, extents.get(last).extendedBy(next.lengthBytes()));
                return true;
            }
            if (extents.size() == maxExtents) {
                return false;
            }
            extents.add(next);
            return true;
        }

        List<Extent> extents() {
            return List.copyOf(extents);
        }
    }

    /** Makes the objects a FUA request changed durable. */
    private DeviceResult<Done> flushObjects(List<ObjectId> objectIds) {
        return objectIds.isEmpty() ? DeviceResult.done() : deviceResult(io.flush(objectIds));
    }

    private static DeviceResult<Done> deviceResult(ObjectResult<Done> result) {
        return result instanceof ObjectResult.Failed<Done>(ObjectError error) ? failure(error) : DeviceResult.done();
    }

    private ObjectId objectId(ObjectSlice slice) {
        return ObjectId.of(volumeId, slice.objectIndex());
    }

    private DeviceResult<Done> checkWritable(long offset, long length) {
        if (readOnly) {
            return DeviceResult.failed(Errno.EPERM, "volume " + name + " is exported read-only");
        }
        return checkRange(offset, length);
    }

    /** Null when the range lies inside the volume. */
    private DeviceResult<Done> checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > sizeBytes || length > sizeBytes - offset) {
            return DeviceResult.failed(Errno.EINVAL, "range " + offset + "+" + length
                    + " goes beyond the end of volume " + name + " (" + sizeBytes + " bytes)");
        }
        return null;
    }

    private static void zeroFill(ByteBuffer buffer, int from, int length) {
        for (int done = 0; done < length; done += ZEROS.length) {
            buffer.put(from + done, ZEROS, 0, Math.min(ZEROS.length, length - done));
        }
    }

    private static DeviceResult<Done> failure(ObjectError error) {
        return new DeviceResult.Failed<>(toDeviceError(error));
    }

    static DeviceError toDeviceError(ObjectError error) {
        Errno errno = switch (error) {
            case ObjectError.NoSpace noSpace -> Errno.ENOSPC;
            case ObjectError.Corrupt corrupt -> Errno.EIO;
            case ObjectError.IoFailure failure -> Errno.EIO;
            case ObjectError.NotFound notFound -> Errno.EIO;
        };
        return new DeviceError(errno, error.describe());
    }
}
