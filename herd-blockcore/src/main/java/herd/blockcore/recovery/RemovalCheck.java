package herd.blockcore.recovery;

/** Whether a storage node may leave the ring now, and if not, why. */
public record RemovalCheck(boolean allowed, String reason) {
    public static RemovalCheck allow() {
        return new RemovalCheck(true, "");
    }

    public static RemovalCheck refuse(String reason) {
        return new RemovalCheck(false, reason);
    }
}
