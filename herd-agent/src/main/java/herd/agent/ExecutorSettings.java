package herd.agent;

import java.nio.file.Path;
import java.util.List;

/**
 * How a node's executor runs agents.
 *
 * @param nodeName                 the node's name, given to OCF agents as OCF_RESKEY_CRM_meta_on_node
 * @param runDirectory             this node's own state directory: HA_RSCTMP/HA_VARRUN for OCF agents,
 *                                 pid and log files of herd:process, captured agent output
 * @param ocfRoot                  OCF_ROOT, normally /usr/lib/ocf
 * @param lsbDirectory             where LSB init scripts live, normally /etc/init.d
 * @param commandWrapper           prepended to every agent, ip and arping command (e.g. ip netns exec ns1); may be empty
 * @param maxConcurrentOperations  operations running at once across all resources
 */
public record ExecutorSettings(String nodeName, Path runDirectory, Path ocfRoot, Path lsbDirectory,
                               List<String> commandWrapper, int maxConcurrentOperations) {

    public static final Path DEFAULT_OCF_ROOT = Path.of("/usr/lib/ocf");
    public static final Path DEFAULT_LSB_DIRECTORY = Path.of("/etc/init.d");
    public static final int DEFAULT_MAX_CONCURRENT_OPERATIONS = 16;

    public ExecutorSettings {
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("executor settings need the node's name");
        }
        if (runDirectory == null) {
            throw new IllegalArgumentException("executor settings need a run directory (one per node, e.g. /run/herd)");
        }
        ocfRoot = ocfRoot == null ? DEFAULT_OCF_ROOT : ocfRoot;
        lsbDirectory = lsbDirectory == null ? DEFAULT_LSB_DIRECTORY : lsbDirectory;
        commandWrapper = commandWrapper == null ? List.of() : List.copyOf(commandWrapper);
        if (maxConcurrentOperations < 1) {
            throw new IllegalArgumentException("maxConcurrentOperations is " + maxConcurrentOperations + "; it must be at least 1");
        }
    }

    /** Standard locations, no wrapper, {@value #DEFAULT_MAX_CONCURRENT_OPERATIONS} operations at once. */
    public static ExecutorSettings defaults(String nodeName, Path runDirectory) {
        return new ExecutorSettings(nodeName, runDirectory, DEFAULT_OCF_ROOT, DEFAULT_LSB_DIRECTORY, List.of(),
            DEFAULT_MAX_CONCURRENT_OPERATIONS);
    }

    public ExecutorSettings withOcfRoot(Path root) {
        return new ExecutorSettings(nodeName, runDirectory, root, lsbDirectory, commandWrapper, maxConcurrentOperations);
    }

    public ExecutorSettings withLsbDirectory(Path directory) {
        return new ExecutorSettings(nodeName, runDirectory, ocfRoot, directory, commandWrapper, maxConcurrentOperations);
    }

    public ExecutorSettings withCommandWrapper(List<String> wrapper) {
        return new ExecutorSettings(nodeName, runDirectory, ocfRoot, lsbDirectory, wrapper, maxConcurrentOperations);
    }
}
