package herd.blockcore.volume;

/** A working volume takes writes; a snapshot is its frozen, read-only past. */
public enum VolumeKind {
    WORKING,
    SNAPSHOT
}
