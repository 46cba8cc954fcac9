package herd.core;

/** Named maxima for everything the cluster state accepts or keeps. */
public final class Limits {
    private Limits() {}

    /** Largest key, in bytes of UTF-8. */
    public static final int MAX_KEY_BYTES = 4 * 1024;
    /** Largest value, in bytes. */
    public static final int MAX_VALUE_BYTES = 1024 * 1024;
    /** Most keys one list request returns; callers page with a larger start key. */
    public static final int MAX_LIST_LIMIT = 10_000;
    /** Changes kept for watchers to resume from; older ones are compacted away. */
    public static final int WATCH_HISTORY_MAX_EVENTS = 10_000;
    /** Values kept in the watch history are bounded in bytes too, so big values cannot pin memory. */
    public static final long WATCH_HISTORY_MAX_BYTES = 64L * 1024 * 1024;
    /** Most events one watch poll returns. */
    public static final int MAX_WATCH_BATCH = 1_000;
    /** Largest resource configuration (crm shell text); it travels as one Raft entry. */
    public static final int MAX_RESOURCE_CONFIGURATION_BYTES = 2 * 1024 * 1024;
    /** Longest node or server name. */
    public static final int MAX_NAME_CHARS = 63;
    /** Most operation results one report from a node carries. */
    public static final int MAX_OPERATIONS_PER_REPORT = 256;
    /** Longest resource id (Pacemaker ids, clone instances such as "web-clone:2"). */
    public static final int MAX_RESOURCE_ID_CHARS = 256;
    /** Longest exit reason or membership reason kept in the state. */
    public static final int MAX_REASON_CHARS = 1024;
}
