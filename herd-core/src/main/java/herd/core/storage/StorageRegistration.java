package herd.core.storage;

/** A node that offers storage: the capacity its object store may use. Its zone is the node's zone. */
public record StorageRegistration(String node, long capacityBytes) {}
