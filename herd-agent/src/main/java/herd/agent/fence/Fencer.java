package herd.agent.fence;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fences a node through fencing levels, as Pacemaker's fencing topology does: levels are tried in
 * order; a level succeeds when every device in it succeeds (devices run one after another, and the
 * level stops at its first failure); the first level that succeeds ends the attempt.
 *
 * <p>A reboot through a level of several devices (say, the two power supplies of one machine) is
 * done as Pacemaker does it: every device turns the node off first, then every device turns it on,
 * so the node is never left powered by one supply while the other cycles.
 */
public final class Fencer {

    private static final Logger log = LoggerFactory.getLogger(Fencer.class);

    private final FenceAgentRunner runner;

    public Fencer(FenceAgentRunner runner) {
        this.runner = runner;
    }

    /** Blocks for at most (devices × timeoutMillisPerDevice) plus kill time. */
    public FencingOutcome fence(List<List<FenceDevice>> levels, String targetNode, FenceAction action, long timeoutMillisPerDevice) {
        if (levels == null || levels.isEmpty() || levels.stream().anyMatch(level -> level == null || level.isEmpty())) {
            throw new IllegalArgumentException("fencing " + targetNode + " needs at least one level, and every level at least one device");
        }
        List<FenceResult> attempts = new ArrayList<>();
        for (int index = 0; index < levels.size(); index++) {
            if (runLevel(levels.get(index), targetNode, action, timeoutMillisPerDevice, attempts)) {
                log.info("fenced {} ({}) at level {}", targetNode, action.word(), index + 1);
                return new FencingOutcome(targetNode, action, true, index + 1, attempts);
            }
            log.warn("fencing level {} for {} failed", index + 1, targetNode);
        }
        FencingOutcome failed = new FencingOutcome(targetNode, action, false, 0, attempts);
        log.error("fencing {} failed at every level: {}", targetNode, failed.failures().replace('\n', ';'));
        return failed;
    }

    private boolean runLevel(List<FenceDevice> level, String targetNode, FenceAction action, long timeoutMillis,
                             List<FenceResult> attempts) {
        if (action == FenceAction.REBOOT && level.size() > 1) {
            // off everywhere is what makes the node safe; a failed "on" is logged but the node is fenced
            if (!runDevices(level, targetNode, FenceAction.OFF, timeoutMillis, attempts)) {
                return false;
            }
            if (!runDevices(level, targetNode, FenceAction.ON, timeoutMillis, attempts)) {
                log.warn("{} was turned off by every device of its level but not back on: power it on by hand", targetNode);
            }
            return true;
        }
        return runDevices(level, targetNode, action, timeoutMillis, attempts);
    }

    private boolean runDevices(List<FenceDevice> level, String targetNode, FenceAction action, long timeoutMillis,
                               List<FenceResult> attempts) {
        for (FenceDevice device : level) {
            FenceResult result = runner.fence(device, targetNode, action, timeoutMillis);
            attempts.add(result);
            if (!result.success()) {
                return false;
            }
        }
        return true;
    }
}
