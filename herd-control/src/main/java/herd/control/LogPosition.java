package herd.control;

/**
 * Where a command sits in the log: one entry may carry a batch of commands (group commit), applied
 * one after another, so the application numbers commands by position = the entry's log index times
 * {@link #PER_ENTRY_MAX} plus the command's place in the entry. Positions increase with every
 * command; operators are shown log indexes ({@link #logIndexOf}).
 */
public final class LogPosition {
    /** Most commands in one entry; a power of two so a position splits back into index and place. */
    public static final int PER_ENTRY_MAX = 1024;

    private LogPosition() { }

    public static long of(long logIndex, int place) {
        if (place < 0 || place >= PER_ENTRY_MAX) {
            throw new IllegalArgumentException("place " + place + " in an entry is outside 0.." + (PER_ENTRY_MAX - 1));
        }
        return logIndex * PER_ENTRY_MAX + place;
    }

    /** The log index of the entry that holds the command applied at {@code position}. */
    public static long logIndexOf(long position) {
        return position / PER_ENTRY_MAX;
    }
}
