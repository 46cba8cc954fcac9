package herd.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The application that the control plane replicates: a deterministic function of the committed
 * log. The control plane knows nothing of what the bytes mean; herd-core gives them meaning.
 *
 * <p>Threading: {@link #apply} and {@link #captureSnapshot} are called from one thread, in log
 * order; {@link #query}, {@link #writeSnapshot} and the writing of a captured snapshot may run
 * concurrently with them, so the implementation guards its state.
 */
public interface ReplicatedApplication {

    /**
     * Applies one committed command. Must be deterministic and must not throw for bad input:
     * a rejected command is a reply like any other, so every server reaches the same state.
     *
     * @param index the command's {@link LogPosition} (an entry may carry several commands),
     *              increasing by at least one per call
     * @return the reply returned to whoever submitted the command
     */
    byte[] apply(long index, byte[] command);

    /** Answers a read-only query against the state as it is now. */
    byte[] query(byte[] query);

    /** The position of the last command applied (or restored from a snapshot); 0 when empty. */
    long lastAppliedIndex();

    /**
     * A copy of the whole state as it is now, which later commands leave unchanged, so that it can
     * be written on another thread while they apply. Taking it must be quick (it holds up applying):
     * copy references to immutable parts, not bytes.
     */
    Snapshot captureSnapshot();

    /** Writes the whole state, including {@link #lastAppliedIndex()}: the copy taken now. */
    default void writeSnapshot(OutputStream out) throws IOException {
        captureSnapshot().writeTo(out);
    }

    /** The state at one point of the log, from {@link #captureSnapshot()}. */
    interface Snapshot {
        /** Writes it, including the index it was taken at, in the form {@link #readSnapshot} reads. */
        void writeTo(OutputStream out) throws IOException;
    }

    /** Replaces the whole state with one written by {@link #writeSnapshot}. */
    void readSnapshot(InputStream in) throws IOException;
}
