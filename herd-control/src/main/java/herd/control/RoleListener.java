package herd.control;

/**
 * Told when this server starts or stops acting as leader. Called from the node's watchdog thread,
 * one call at a time and in order; keep it quick and hand slow work (hooks) to another thread.
 */
@FunctionalInterface
public interface RoleListener {

    /**
     * @param leader true when this server has become a ready leader (it committed an entry of its
     *               term and hears from a majority); false when it stopped being one, including
     *               when it still believes it leads but has not heard from a majority in time
     * @param term   the Raft term the change happened in
     */
    void onRoleChange(boolean leader, long term);

    RoleListener NONE = (leader, term) -> { };
}
