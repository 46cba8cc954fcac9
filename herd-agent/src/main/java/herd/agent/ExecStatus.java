package herd.agent;

/** How an operation ended, numbered like Pacemaker's PCMK_EXEC_* (the rc says what the agent answered). */
public enum ExecStatus {
    PENDING(-1),
    /** The agent ran to completion; its answer is the rc. */
    DONE(0),
    CANCELLED(1),
    TIMEOUT(2),
    NOT_SUPPORTED(3),
    /** Could not run or finish the agent for a reason that may pass (it crashed, a launch failed). */
    ERROR(4),
    /** An error that will recur on this node. */
    ERROR_HARD(5),
    /** An error that will recur on every node. */
    ERROR_FATAL(6),
    NOT_INSTALLED(7);

    private final int code;

    ExecStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
