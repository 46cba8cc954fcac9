package herd.agent.runner;

import herd.agent.ExecutorSettings;
import herd.agent.OperationRequest;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The environment of an OCF agent, as the OCF resource agent API and Pacemaker define it. Pure. */
public final class OcfEnvironment {

    /** Sub-directories of the node's run directory that replace /run/resource-agents and /var/run. */
    public static final String RSCTMP_DIRECTORY = "rsctmp";
    public static final String VARRUN_DIRECTORY = "varrun";
    /** The operation attribute that sets how deep a monitor checks (0, 10, 20, ...). */
    public static final String CHECK_LEVEL = "OCF_CHECK_LEVEL";

    private OcfEnvironment() {
    }

    public static Map<String, String> build(ExecutorSettings settings, OperationRequest request) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OCF_ROOT", settings.ocfRoot().toString());
        env.put("OCF_RA_VERSION_MAJOR", "1");
        env.put("OCF_RA_VERSION_MINOR", "1");
        env.put("OCF_RESOURCE_INSTANCE", request.resourceId());
        env.put("OCF_RESOURCE_TYPE", request.agent().type());
        if (request.agent().provider() != null) {
            env.put("OCF_RESOURCE_PROVIDER", request.agent().provider());
        }
        env.put("OCF_EXIT_REASON_PREFIX", ChildAnswers.EXIT_REASON_PREFIX);
        // Per-node state directories (Debian's ocf-directories honours these), so several nodes on one
        // machine do not share state files such as Dummy's.
        env.put("HA_RSCTMP", rscTmp(settings).toString());
        env.put("HA_VARRUN", varRun(settings).toString());
        // Parameters first, so that herd's meta attributes below cannot be overridden by a parameter.
        request.params().forEach((name, value) -> {
            // Pacemaker passes the monitor depth as OCF_CHECK_LEVEL itself, not as a parameter.
            env.put(name.equals(CHECK_LEVEL) ? CHECK_LEVEL : "OCF_RESKEY_" + name, value);
        });
        env.put("OCF_RESKEY_CRM_meta_timeout", Long.toString(request.timeoutMillis()));
        env.put("OCF_RESKEY_CRM_meta_interval", Long.toString(request.intervalMillis()));
        env.put("OCF_RESKEY_CRM_meta_on_node", settings.nodeName());
        return env;
    }

    public static Path rscTmp(ExecutorSettings settings) {
        return settings.runDirectory().resolve(RSCTMP_DIRECTORY);
    }

    public static Path varRun(ExecutorSettings settings) {
        return settings.runDirectory().resolve(VARRUN_DIRECTORY);
    }
}
