package herd.block.nbd;

/** The error values the NBD protocol carries (Linux numbering, as the protocol fixes them). */
public enum Errno {
    EPERM(1),
    EIO(5),
    ENOMEM(12),
    EINVAL(22),
    ENOSPC(28),
    EOVERFLOW(75),
    ENOTSUP(95),
    ESHUTDOWN(108);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
