package herd.blockcore.recovery;

import herd.blockcore.ObjectId;

/** Delete the copy of {@code oid} on {@code node}, which the new placement no longer includes. */
public record DeleteTask(ObjectId oid, String node) {}
