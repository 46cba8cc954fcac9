package herd.bench.controlplane;

import java.util.List;

/** A system under test (herd or etcd): how to reach its members and how to ask who leads. */
interface KvSystem extends AutoCloseable {

    /** A client talking to this member only (the member forwards writes to the leader itself). */
    KvClient clientFor(Member member);

    /** The name of the current leader, asked of the members that answer; throws when none is known. */
    String leaderName(List<Member> members) throws Exception;

    /** Short label for reports, e.g. "etcd". */
    String label();

    @Override
    void close();
}
