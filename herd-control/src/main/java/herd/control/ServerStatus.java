package herd.control;

/**
 * One server's view of itself, as {@code herd server list} shows it.
 *
 * @param name          the server's name (Raft peer id)
 * @param raftAddress   host:port it serves Raft on
 * @param role          its current Raft role
 * @param term          its current term
 * @param lastLogIndex  index of the last entry in its log (flushed or not); -1 when empty
 * @param commitIndex   highest index it knows to be committed
 * @param appliedIndex  highest index applied to its state machine
 * @param votedFor      whom it voted for in the current term, as persisted; empty when nobody
 * @param leaderName    the leader it knows of; empty when none
 */
public record ServerStatus(String name, String raftAddress, Role role, long term, long lastLogIndex,
                           long commitIndex, long appliedIndex, String votedFor, String leaderName) {

    public enum Role { LEADER, FOLLOWER, CANDIDATE, LISTENER, STARTING }
}
