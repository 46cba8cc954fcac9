package herd.blockcore.recovery;

import herd.blockcore.ObjectId;

/** An object the new ring cannot place (too few zones for its copies): left as it is, and reported. */
public record UnplaceableObject(ObjectId oid, int copies, String reason) {}
