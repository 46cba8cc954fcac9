package herd.scheduler.model;

import java.util.List;
import java.util.Map;

/** A single resource agent instance, "class:provider:type" (provider only for ocf). */
public record Primitive(String id, String agentClass, String provider, String type,
                        Map<String, String> params, Map<String, String> meta,
                        List<Operation> operations, Map<String, String> utilization) implements Resource {
    public Primitive {
        params = Maps.copy(params);
        meta = Maps.copy(meta);
        operations = List.copyOf(operations);
        utilization = Maps.copy(utilization);
    }

    /** The agent as Pacemaker prints it, e.g. "ocf:heartbeat:IPaddr2" or "stonith:fence_ipmilan". */
    public String agent() {
        return provider == null || provider.isEmpty() ? agentClass + ":" + type
                : agentClass + ":" + provider + ":" + type;
    }

    public boolean isFencingDevice() {
        return "stonith".equals(agentClass);
    }
}
