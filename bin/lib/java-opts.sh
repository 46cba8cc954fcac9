# Sourced by bin/herd and the benchmarks: the JVM options herd's processes run with unless
# HERD_JAVA_OPTS says otherwise. docs/operations.md ("JVM options") has the measurements.
#
# herd runs on small machines beside other work, so it uses the serial collector. The daemon
# (agent, and the demo's servers) runs for days and gets the C2 compiler: once warm its code is
# much faster. It touches its initial heap at start (AlwaysPreTouch): memory first touched later,
# as the heap fills, costs a page fault inside a collection pause, which in a virtual machine can
# make a pause tens of ms longer. Its young generation is kept at 48 MB: a young collection copies
# what is still live, which under load is mostly what the last collection's interval allocated for
# good (the cluster state's new entries, recent Raft entries), so a smaller young generation makes
# shorter pauses, more often, for the same total; the JVM's default (a third of the heap) made
# pauses of about 23 ms that set the 99th percentile of a busy control plane. What survives one
# young collection is promoted at once (MaxTenuringThreshold=0): under load nearly all of it is kept
# for good, so ageing it in the survivor spaces only copied it two or three times instead of once.
# A CLI command lives for a moment and stops at C1, which starts faster and compiles less.
herd_daemon_java_opts="-XX:+UseSerialGC -XX:+AlwaysPreTouch -Xmn48m -XX:MaxTenuringThreshold=0"
herd_cli_java_opts="-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
