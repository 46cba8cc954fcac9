package herd.block;

/** The value of an operation that succeeded and has nothing to return. */
public enum Done {
    DONE
}
