package herd.agent;

import java.util.Map;
import java.util.regex.Pattern;

/** One action on one resource: what the scheduler asks a node's executor to do. */
public record OperationRequest(String resourceId, AgentId agent, String action, long intervalMillis,
                               long timeoutMillis, Map<String, String> params) {

    // Resource ids name pid and state files; parameter names become environment variable names.
    private static final Pattern RESOURCE_ID = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.:@-]*");
    private static final Pattern ACTION = Pattern.compile("[a-z][a-z0-9_-]*");
    private static final Pattern PARAM_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    public OperationRequest {
        if (resourceId == null || !RESOURCE_ID.matcher(resourceId).matches()) {
            throw new IllegalArgumentException("resource id '" + resourceId
                + "' is not valid: use letters, digits and _ . : @ - (not starting with . : @ -)");
        }
        if (agent == null) {
            throw new IllegalArgumentException("resource " + resourceId + " has no agent; give one such as ocf:heartbeat:Dummy");
        }
        if (action == null || !ACTION.matcher(action).matches()) {
            throw new IllegalArgumentException("action '" + action + "' of resource " + resourceId
                + " is not valid: use an action name such as start, stop, monitor, meta-data");
        }
        if (intervalMillis < 0) {
            throw new IllegalArgumentException("interval of " + resourceId + " " + action + " is " + intervalMillis + " ms; use 0 (one-shot) or more");
        }
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeout of " + resourceId + " " + action + " is " + timeoutMillis + " ms; it must be positive, e.g. 20000");
        }
        params = params == null ? Map.of() : Map.copyOf(params);
        for (String name : params.keySet()) {
            if (!PARAM_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("parameter name '" + name + "' of resource " + resourceId
                    + " is not valid: use letters, digits and '_' (it becomes OCF_RESKEY_" + name + ")");
            }
        }
    }

    /** A one-shot operation (interval 0) with no parameters. */
    public static OperationRequest of(String resourceId, String agent, String action, long timeoutMillis) {
        return new OperationRequest(resourceId, AgentId.parse(agent), action, 0, timeoutMillis, Map.of());
    }

    public OperationRequest withAction(String newAction, long newIntervalMillis) {
        return new OperationRequest(resourceId, agent, newAction, newIntervalMillis, timeoutMillis, params);
    }

    public String param(String name, String fallback) {
        String value = params.get(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    /** Pacemaker's operation key, e.g. {@code web_monitor_10000}. */
    public String key() {
        return resourceId + "_" + action + "_" + intervalMillis;
    }
}
