package herd.coordinator;

import java.util.List;
import java.util.Map;

/**
 * Fence {@code target}: try the levels in order; a level succeeds when every device in it does.
 *
 * @param reason why the node must be fenced, for the log and the fencing history
 */
public record FenceRequest(String target, String reason, List<List<Device>> levels) {
    public FenceRequest {
        levels = levels.stream().map(List::copyOf).toList();
    }

    /** A configured fence device: a stonith-class resource. */
    public record Device(String id, String agent, Map<String, String> params) {
        public Device {
            params = Map.copyOf(params);
        }
    }
}
