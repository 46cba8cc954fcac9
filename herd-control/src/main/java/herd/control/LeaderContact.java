package herd.control;

/**
 * When this server, as a follower, last heard from a leader: the leader's server name and the wall
 * clock time of its last message (an append or a heartbeat) received here.
 */
public record LeaderContact(String leader, long atEpochMillis) { }
