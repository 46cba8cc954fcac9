package herd.core.command;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import herd.core.Rejection;
import herd.core.kv.KeyValue;

/** What applying a {@link Command} did. Every server computes the same outcome for the same entry. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "outcome")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Outcome.KvWritten.class, name = "kv-written"),
    @JsonSubTypes.Type(value = Outcome.KvDeleted.class, name = "kv-deleted"),
    @JsonSubTypes.Type(value = Outcome.RevisionMismatch.class, name = "revision-mismatch"),
    @JsonSubTypes.Type(value = Outcome.Rejected.class, name = "rejected"),
    @JsonSubTypes.Type(value = Outcome.Applied.class, name = "applied"),
})
public sealed interface Outcome {

    /**
     * A put succeeded; {@code revision} is the cluster revision it created (the key's modRevision).
     * The value is left out: the writer has it, and each server keeps every outcome for a while
     * (Raft's retry cache), so a value in it would be held once more per server.
     */
    record KvWritten(long revision, String key, long createRevision, long version) implements Outcome {
        /** The key as the put left it, given the value it wrote. */
        public KeyValue withValue(byte[] value) {
            return new KeyValue(key, value, createRevision, revision, version);
        }
    }

    /** A delete ran; {@code deleted} is 0 when the key did not exist (then no revision was created). */
    record KvDeleted(long revision, int deleted) implements Outcome {}

    /** A compare-and-set found another revision; {@code current} is null when the key does not exist. */
    record RevisionMismatch(long revision, String key, long expectedRevision, KeyValue current) implements Outcome {}

    /** The command was refused as a whole; nothing changed. */
    record Rejected(Rejection rejection) implements Outcome {}

    /** A cluster-level command (nodes, settings) took effect. */
    record Applied(String description) implements Outcome {}
}
