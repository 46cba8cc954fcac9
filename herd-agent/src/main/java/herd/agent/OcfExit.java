package herd.agent;

/** The OCF resource agent exit codes, as Pacemaker records them in an operation's rc. */
public enum OcfExit {
    OK(0, "success"),
    ERR_GENERIC(1, "generic error"),
    ERR_ARGS(2, "invalid argument"),
    ERR_UNIMPLEMENTED(3, "unimplemented feature"),
    ERR_PERM(4, "insufficient privilege"),
    ERR_INSTALLED(5, "not installed"),
    ERR_CONFIGURED(6, "not configured"),
    NOT_RUNNING(7, "not running"),
    RUNNING_PROMOTED(8, "running promoted"),
    FAILED_PROMOTED(9, "failed promoted");

    private final int code;
    private final String meaning;

    OcfExit(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** True when {@code code} is one of the ten codes the OCF standard defines. */
    public static boolean isDefined(int code) {
        return code >= 0 && code < values().length;
    }

    public static OcfExit of(int code) {
        if (!isDefined(code)) {
            throw new IllegalArgumentException("OCF exit code " + code + " is not defined; the codes are 0 to 9");
        }
        return values()[code];
    }
}
