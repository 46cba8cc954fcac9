package herd.agent.fence;

import herd.agent.AgentId;
import java.util.Map;

/**
 * A configured fence device: an agent of class stonith and its parameters (ip, username, password,
 * ...; for stonith:herd-script, {@code command}). Parameters starting with {@code pcmk_} configure
 * herd's use of the device and are not passed to the agent.
 */
public record FenceDevice(String id, AgentId agent, Map<String, String> params) {

    public FenceDevice {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("a fence device needs an id");
        }
        if (agent == null || !agent.agentClass().equals(AgentId.STONITH)) {
            throw new IllegalArgumentException("fence device " + id + " has agent " + agent
                + "; a fence device needs a stonith agent such as stonith:fence_ipmilan");
        }
        params = params == null ? Map.of() : Map.copyOf(params);
        params.forEach((name, value) -> {
            // One key=value per line on the agent's stdin: a newline would inject another key.
            if (!name.matches("[A-Za-z0-9_-]+") || value.contains("\n") || value.contains("\r")) {
                throw new IllegalArgumentException("parameter '" + name + "' of fence device " + id
                    + " is not valid: names are letters, digits, '_' and '-', values are one line");
            }
        });
        if (agent.type().equals(AgentId.HERD_SCRIPT_FENCE_TYPE) && params.getOrDefault("command", "").isBlank()) {
            throw new IllegalArgumentException("fence device " + id + " (stonith:herd-script) needs the parameter 'command'");
        }
    }

    public boolean isHerdScript() {
        return agent.type().equals(AgentId.HERD_SCRIPT_FENCE_TYPE);
    }
}
