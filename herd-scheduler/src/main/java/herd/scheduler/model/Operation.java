package herd.scheduler.model;

import java.util.Map;

/**
 * A configured operation of a primitive: monitor with an interval (and optional role), or the timeout
 * and on-fail policy of start/stop/promote/demote.
 *
 * @param intervalMs 0 for non-recurring operations
 * @param role       the role a recurring monitor applies to, or null for any
 * @param onFail     ignore, block, stop, restart, standby, fence, demote; null for the default
 */
public record Operation(String id, String name, long intervalMs, Role role, String onFail, boolean enabled,
                        Map<String, String> attributes) {
    public Operation {
        attributes = Maps.copy(attributes);
    }
}
