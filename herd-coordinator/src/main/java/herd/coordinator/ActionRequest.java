package herd.coordinator;

import java.util.Map;

/**
 * One resource agent operation the leader sends to a node's executor.
 *
 * @param key            names the action while it is in flight (node, resource, operation, interval)
 * @param agent          class:provider:type
 * @param intervalMillis 0 for one-off operations; a recurring monitor runs until the resource stops
 * @param expectedRc     the exit code that means success (see OperationRecord#expectedRc)
 * @param params         the resource's instance attributes
 */
public record ActionRequest(String key, String node, String resource, String agent, String operation,
                            long intervalMillis, long timeoutMillis, int expectedRc, Map<String, String> params) {
    public ActionRequest {
        params = Map.copyOf(params);
    }

    public static String keyOf(String node, String resource, String operation, long intervalMillis) {
        return node + "/" + resource + "_" + operation + "_" + intervalMillis;
    }
}
