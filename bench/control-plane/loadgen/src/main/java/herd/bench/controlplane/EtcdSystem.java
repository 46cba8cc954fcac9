package herd.bench.controlplane;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * etcd through jetcd. One jetcd client (one gRPC/HTTP2 connection) per member, shared by every client
 * thread that talks to that member: gRPC multiplexes concurrent calls over it, which is how etcd's own
 * benchmark tool drives it. Reads are jetcd's default, linearizable (not serializable).
 */
final class EtcdSystem implements KvSystem {

    private final Duration requestTimeout;
    private final Map<String, Client> clientsByMemberName = new ConcurrentHashMap<>();

    EtcdSystem(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    @Override
    public String label() {
        return "etcd";
    }

    @Override
    public KvClient clientFor(Member member) {
        Client client = jetcdClient(member);
        return new EtcdKvClient(client.getKVClient(), requestTimeout);
    }

    private Client jetcdClient(Member member) {
        return clientsByMemberName.computeIfAbsent(member.name(), name -> Client.builder()
                .endpoints(endpointOf(member))
                .connectTimeout(Duration.ofSeconds(2))
                .build());
    }

    private static String endpointOf(Member member) {
        return "http://" + member.hostPort();
    }

    /** Each member reports its own id and the leader's id; the leader is the member whose id that is. */
    @Override
    public String leaderName(List<Member> members) throws Exception {
        Map<Long, String> nameByMemberId = new HashMap<>();
        Map<Long, Integer> votesByLeaderId = new HashMap<>();
        for (Member member : members) {
            try {
                StatusResponse status = jetcdClient(member).getMaintenanceClient()
                        .statusMember(endpointOf(member))
                        .get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
                nameByMemberId.put(status.getHeader().getMemberId(), member.name());
                if (status.getLeader() != 0) {
                    votesByLeaderId.merge(status.getLeader(), 1, Integer::sum);
                }
            } catch (Exception unreachable) {
                // a member that is down or restarting does not know the leader; ask the others
            }
        }
        return votesByLeaderId.entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(entry -> nameByMemberId.get(entry.getKey()))
                .orElseThrow(() -> new IllegalStateException("no etcd member reports a leader it can name; answering: "
                        + nameByMemberId.values()));
    }

    @Override
    public void close() {
        clientsByMemberName.values().forEach(Client::close);
    }

    private record EtcdKvClient(KV kv, Duration requestTimeout) implements KvClient {

        @Override
        public void put(String key, byte[] value) throws Exception {
            putAsync(key, value).get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public byte[] get(String key) throws Exception {
            GetResponse response = kv.get(bytes(key)).get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return response.getKvs().isEmpty() ? null : response.getKvs().get(0).getValue().getBytes();
        }

        @Override
        public CompletableFuture<?> putAsync(String key, byte[] value) {
            return kv.put(bytes(key), ByteSequence.from(value));
        }

        private static ByteSequence bytes(String key) {
            return ByteSequence.from(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
