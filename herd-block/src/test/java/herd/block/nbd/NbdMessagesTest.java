package herd.block.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NbdMessagesTest {
    private static final NbdRequests.Limits WRITABLE = new NbdRequests.Limits(1 << 20, false, true);

    @Test
    void parsesGo() throws Exception {
        byte[] data = ByteBuffer.allocate(11).putInt(3).put("vol".getBytes()).putShort((short) 1)
                .putShort((short) NbdProtocol.INFO_BLOCK_SIZE).array();

        assertThat(NbdMessages.parseGo(data)).isEqualTo(new NbdMessages.GoRequest("vol", List.of(3)));
    }

    @Test
    void refusesGoWhoseNameRunsPastTheOption() {
        byte[] data = ByteBuffer.allocate(8).putInt(100).put("vol".getBytes()).array();

        assertThatThrownBy(() -> NbdMessages.parseGo(data))
                .isInstanceOf(NbdMessages.MalformedOptionException.class).hasMessageContaining("100 bytes long");
    }

    @Test
    void refusesTrailingBytes() {
        byte[] data = ByteBuffer.allocate(10).putInt(0).putShort((short) 0).putInt(7).array();

        assertThatThrownBy(() -> NbdMessages.parseGo(data)).hasMessageContaining("4 unexpected trailing bytes");
    }

    @Test
    void parsesMetaContextQueries() throws Exception {
        byte[] data = ByteBuffer.allocate(4 + 3 + 4 + 4 + 15).putInt(3).put("vol".getBytes()).putInt(1).putInt(15)
                .put("base:allocation".getBytes()).array();

        assertThat(NbdMessages.parseMetaContext(data))
                .isEqualTo(new NbdMessages.MetaContextRequest("vol", List.of("base:allocation")));
    }

    @Test
    void errorChunkCarriesErrnoAndMessage() {
        byte[] chunk = NbdMessages.errorChunk(9, new DeviceError(Errno.ENOSPC, "full"));
        ByteBuffer buffer = ByteBuffer.wrap(chunk);

        assertThat(buffer.getInt(0)).isEqualTo(NbdProtocol.STRUCTURED_REPLY_MAGIC);
        assertThat(buffer.getShort(6)).isEqualTo((short) NbdProtocol.REPLY_TYPE_ERROR);
        assertThat(buffer.getLong(8)).isEqualTo(9);
        assertThat(buffer.getInt(16)).isEqualTo(10);
        assertThat(buffer.getInt(20)).isEqualTo(28);
        assertThat(buffer.getShort(24)).isEqualTo((short) 4);
    }

    @Test
    void blockStatusChunkListsExtents() {
        byte[] chunk = NbdMessages.blockStatusChunk(1, 1, List.of(new Extent(4096, false, false),
                new Extent(8192, true, true)));
        ByteBuffer buffer = ByteBuffer.wrap(chunk);

        assertThat(buffer.getInt(16)).isEqualTo(4 + 16);
        assertThat(buffer.getInt(20)).isEqualTo(1);
        assertThat(List.of(buffer.getInt(24), buffer.getInt(28), buffer.getInt(32), buffer.getInt(36)))
                .containsExactly(4096, 0, 8192, 3);
    }

    @Test
    void requestsAreCheckedAgainstTheExport() {
        assertThat(validate(NbdProtocol.CMD_READ, 0, 0, 4096, WRITABLE)).isEmpty();
        assertThat(validate(NbdProtocol.CMD_READ, 0, (1 << 20) - 10, 11, WRITABLE)).map(DeviceError::errno)
                .contains(Errno.EINVAL);
        assertThat(validate(NbdProtocol.CMD_READ, 0, -1, 1, WRITABLE)).map(DeviceError::errno).contains(Errno.EINVAL);
        // beyond the end: writes get ENOSPC, as the protocol asks; reads and trims EINVAL
        assertThat(validate(NbdProtocol.CMD_WRITE, 0, (1 << 20) - 10, 11, WRITABLE)).map(DeviceError::errno)
                .contains(Errno.ENOSPC);
        assertThat(validate(NbdProtocol.CMD_WRITE_ZEROES, 0, 1 << 20, 4096, WRITABLE)).map(DeviceError::errno)
                .contains(Errno.ENOSPC);
        assertThat(validate(NbdProtocol.CMD_TRIM, 0, 1 << 20, 4096, WRITABLE)).map(DeviceError::errno)
                .contains(Errno.EINVAL);
        assertThat(validate(NbdProtocol.CMD_WRITE, 0, 0, NbdProtocol.MAX_PAYLOAD_BYTES + 1L,
                new NbdRequests.Limits(1L << 40, false, true))).map(DeviceError::message)
                .hasValueSatisfying(message -> assertThat(message).contains("exceeds the maximum"));
        // FUA is accepted on every command (older qemu sets it on flushes); other flags only where they mean something
        assertThat(validate(NbdProtocol.CMD_READ, NbdProtocol.CMD_FLAG_FUA, 0, 1, WRITABLE)).isEmpty();
        assertThat(validate(NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_FLAG_FUA, 0, 0, WRITABLE)).isEmpty();
        assertThat(validate(NbdProtocol.CMD_BLOCK_STATUS, NbdProtocol.CMD_FLAG_FUA | NbdProtocol.CMD_FLAG_REQ_ONE, 0,
                4096, WRITABLE)).isEmpty();
        assertThat(validate(NbdProtocol.CMD_READ, NbdProtocol.CMD_FLAG_NO_HOLE, 0, 1, WRITABLE)).map(DeviceError::message)
                .hasValueSatisfying(message -> assertThat(message).contains("are not valid for"));
        assertThat(validate(NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_FLAG_REQ_ONE, 0, 0, WRITABLE)).isPresent();
        assertThat(validate(NbdProtocol.CMD_WRITE_ZEROES, NbdProtocol.CMD_FLAG_NO_HOLE | NbdProtocol.CMD_FLAG_FUA, 0,
                4096, WRITABLE)).isEmpty();
        assertThat(validate(5, 0, 0, 4096, WRITABLE)).map(DeviceError::message)
                .hasValueSatisfying(message -> assertThat(message).contains("not supported"));
        assertThat(validate(NbdProtocol.CMD_TRIM, 0, 0, 4096, new NbdRequests.Limits(1 << 20, true, true)))
                .map(DeviceError::errno).contains(Errno.EPERM);
        assertThat(validate(NbdProtocol.CMD_BLOCK_STATUS, 0, 0, 4096, new NbdRequests.Limits(1 << 20, false, false)))
                .map(DeviceError::errno).contains(Errno.EINVAL);
    }

    private static Optional<DeviceError> validate(int type, int flags, long offset, long length,
            NbdRequests.Limits limits) {
        return NbdRequests.validate(new NbdRequest(flags, type, 1, offset, length), limits);
    }
}
