package herd.agent.fence;

/** The actions of the fence-agents stdin protocol. */
public enum FenceAction {
    OFF("off"),
    REBOOT("reboot"),
    ON("on"),
    /** Exit 0 means the target is on, 2 that it is off, anything else an error. */
    STATUS("status"),
    /** Is the device itself reachable and working. */
    MONITOR("monitor"),
    LIST("list");

    private final String word;

    FenceAction(String word) {
        this.word = word;
    }

    /** The value of the {@code action=} line. */
    public String word() {
        return word;
    }

    public static FenceAction parse(String word) {
        for (FenceAction action : values()) {
            if (action.word.equals(word)) {
                return action;
            }
        }
        throw new IllegalArgumentException("unknown fence action '" + word + "'; use off, reboot, on, status, monitor or list");
    }
}
