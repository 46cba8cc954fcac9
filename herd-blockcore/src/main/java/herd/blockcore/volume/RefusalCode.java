package herd.blockcore.volume;

/** Why a catalog operation was refused, in a form the API can map to a status code. */
public enum RefusalCode {
    /** The request itself is malformed: a bad name, size or copies count. */
    INVALID,
    /** A named volume or snapshot does not exist. */
    NOT_FOUND,
    /** The request conflicts with the current state: a name taken, a volume attached, a snapshot written to. */
    CONFLICT,
    /** A limit of the store is reached (volume ids are exhausted). */
    LIMIT
}
