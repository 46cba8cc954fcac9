package herd.core.kv;

import herd.core.Rejection;
import java.util.List;

/**
 * The answer to a watch poll: the events found, the store's revision at the time, or why the poll
 * was refused (its start was compacted away).
 */
public record WatchBatch(List<KvEvent> events, long currentRevision, Rejection refusal) {
    public static WatchBatch of(List<KvEvent> events, long currentRevision) {
        return new WatchBatch(List.copyOf(events), currentRevision, null);
    }

    public static WatchBatch refused(Rejection refusal, long currentRevision) {
        return new WatchBatch(List.of(), currentRevision, refusal);
    }

    public boolean isRefused() {
        return refusal != null;
    }
}
