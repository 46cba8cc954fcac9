package herd.agent;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Names a resource or fence agent the way Pacemaker does: {@code class[:provider]:type}.
 * Only OCF agents have a provider.
 */
public record AgentId(String agentClass, String provider, String type) {

    public static final String OCF = "ocf";
    public static final String LSB = "lsb";
    public static final String HERD = "herd";
    public static final String STONITH = "stonith";

    /** The agents herd implements itself (class {@code herd}). */
    public static final List<String> BUILT_IN_TYPES = List.of("process", "floating-ip");

    /** The fence device herd implements itself (class {@code stonith}). */
    public static final String HERD_SCRIPT_FENCE_TYPE = "herd-script";

    // Types and providers become file names: no slashes, no leading dot.
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_+@-][A-Za-z0-9_.+@-]*");

    public AgentId {
        if (agentClass == null || type == null) {
            throw new IllegalArgumentException("agent class and type are required, e.g. ocf:heartbeat:Dummy");
        }
        switch (agentClass) {
            case OCF -> requireName(provider, "provider", "ocf:heartbeat:Dummy");
            case LSB, HERD, STONITH -> {
                if (provider != null) {
                    throw new IllegalArgumentException("agents of class '" + agentClass
                        + "' have no provider; write " + agentClass + ":" + type);
                }
            }
            default -> throw new IllegalArgumentException("unknown agent class '" + agentClass
                + "'; use ocf, lsb, herd or stonith (e.g. ocf:heartbeat:Dummy, lsb:nginx, herd:process, stonith:fence_ipmilan)");
        }
        requireName(type, "type", agentClass.equals(OCF) ? "ocf:heartbeat:Dummy" : agentClass + ":name");
        if (agentClass.equals(HERD) && !BUILT_IN_TYPES.contains(type)) {
            throw new IllegalArgumentException("unknown built-in agent herd:" + type
                + "; the built-in agents are herd:process and herd:floating-ip");
        }
    }

    /** Parses {@code ocf:heartbeat:Dummy}, {@code lsb:nginx}, {@code herd:process}, {@code stonith:fence_dummy}. */
    public static AgentId parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("agent is empty; write it as class:provider:type (ocf:heartbeat:Dummy) or class:type (lsb:nginx, herd:process, stonith:fence_dummy)");
        }
        String[] parts = text.split(":", -1);
        String agentClass = parts[0];
        if (agentClass.equals(OCF)) {
            if (parts.length != 3) {
                throw new IllegalArgumentException("OCF agent '" + text + "' must have the form ocf:provider:type, e.g. ocf:heartbeat:Dummy");
            }
            return new AgentId(OCF, parts[1], parts[2]);
        }
        if (parts.length != 2) {
            throw new IllegalArgumentException("agent '" + text + "' must have the form class:type (lsb:nginx, herd:process, stonith:fence_dummy) or ocf:provider:type");
        }
        return new AgentId(agentClass, null, parts[1]);
    }

    public boolean isOcf() {
        return agentClass.equals(OCF);
    }

    @Override
    public String toString() {
        return provider == null ? agentClass + ":" + type : agentClass + ":" + provider + ":" + type;
    }

    private static void requireName(String value, String what, String example) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException("agent " + what + " '" + value
                + "' is not valid: use letters, digits, '_', '-', '.', '+', '@' (not starting with '.'), e.g. " + example);
        }
    }
}
