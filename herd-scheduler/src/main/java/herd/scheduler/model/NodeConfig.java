package herd.scheduler.model;

import java.util.Map;

/** A configured cluster node with its permanent attributes (standby, maintenance, ...) and capacities. */
public record NodeConfig(String id, String uname, String type, Map<String, String> attributes,
                         Map<String, String> utilization, Integer score) {
    public NodeConfig {
        attributes = Maps.copy(attributes);
        utilization = Maps.copy(utilization);
    }
}
