package herd.server;

import herd.control.RoleListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator's commands when this server becomes leader and when it stops being leader,
 * like OpenNebula's RAFT_LEADER_HOOK and RAFT_FOLLOWER_HOOK. Hooks run one at a time in the order
 * of the role changes (a follower hook never overtakes the leader hook before it), each with a
 * time limit; the environment tells them HERD_ROLE, HERD_TERM and HERD_NODE.
 */
public final class LeaderHooks implements RoleListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderHooks.class);
    /** A hook still running after this is killed, so the next role change is not held up forever. */
    static final long HOOK_TIMEOUT_SECONDS = 30;

    private final String nodeName;
    private final java.nio.file.Path outputFile;
    private final List<String> leaderCommand;
    private final List<String> followerCommand;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "herd-leader-hooks");
        thread.setDaemon(true);
        return thread;
    });
    private final List<RoleListener> alsoNotify = new ArrayList<>();

    /** @param outputFile where the hooks' output goes (appended), so a hook that leaves a child running never blocks us */
    public LeaderHooks(String nodeName, java.nio.file.Path outputFile, List<String> leaderCommand, List<String> followerCommand) {
        this.nodeName = nodeName;
        this.outputFile = outputFile;
        this.leaderCommand = leaderCommand == null ? List.of() : List.copyOf(leaderCommand);
        this.followerCommand = followerCommand == null ? List.of() : List.copyOf(followerCommand);
    }

    /** Other code that reacts to leadership (e.g. the founder's first entry); called before the hooks are queued. */
    public void alsoNotify(RoleListener listener) {
        alsoNotify.add(listener);
    }

    /**
     * Runs the follower hook once as the server starts, before it can lead: a server killed while it
     * led never ran its follower hook, so it may still hold the floating address.
     */
    public void startAsFollower() {
        if (!followerCommand.isEmpty()) {
            runner.execute(() -> run(followerCommand, "follower", 0));
        }
    }

    @Override
    public void onRoleChange(boolean leader, long term) {
        log.info("{} is {} in term {}", nodeName, leader ? "now the leader" : "no longer the leader", term);
        alsoNotify.forEach(listener -> listener.onRoleChange(leader, term));
        List<String> command = leader ? leaderCommand : followerCommand;
        if (!command.isEmpty()) {
            runner.execute(() -> run(command, leader ? "leader" : "follower", term));
        }
    }

    private void run(List<String> command, String role, long term) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()));
        builder.environment().put("HERD_ROLE", role);
        builder.environment().put("HERD_TERM", Long.toString(term));
        builder.environment().put("HERD_NODE", nodeName);
        long started = System.nanoTime();
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            boolean finished = process.waitFor(HOOK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                log.error("{} hook {} did not finish within {} s and was killed", role, command, HOOK_TIMEOUT_SECONDS);
                return;
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            if (process.exitValue() == 0) {
                log.info("{} hook {} done in {} ms", role, command, millis);
            } else {
                log.error("{} hook {} failed with exit code {} after {} ms; its output is in {}", role, command,
                    process.exitValue(), millis, outputFile);
            }
        } catch (IOException e) {
            log.error("{} hook {} could not start: {}", role, command, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        runner.shutdown();
        try {
            runner.awaitTermination(HOOK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
