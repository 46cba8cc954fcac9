package herd.control;

/** A server in the current Raft configuration: its name, address and whether it votes. */
public record Member(String name, String raftAddress, boolean voting) { }
