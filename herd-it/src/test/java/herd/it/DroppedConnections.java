package herd.it;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * Holds the data of the TCP connections open to a port on loopback: while an instance is open,
 * iptables drops what their senders send (the receiver's acknowledgements still flow), so a request
 * sent on one of them waits in the sender's kernel, retransmitted with growing pauses, and arrives
 * after {@link #close}. Connections opened later are not held by {@link #to}; {@link #everythingTo}
 * drops what is sent on them too (their handshake never completes). Needs root and iptables:
 * {@code bin/test} sets {@code HERD_TEST_REQUIRE_ROOT=1} as root, and then a test that cannot hold
 * connections fails rather than skips.
 */
final class DroppedConnections implements AutoCloseable {
    private final int port;
    private final String what;
    /** The match of each rule inserted, without its action. */
    private final List<List<String>> rules = new ArrayList<>();

    private DroppedConnections(int port, String what) {
        this.port = port;
        this.what = what;
    }

    /** Starts dropping the data of every connection now established to {@code port}. */
    static DroppedConnections to(int port) throws Exception {
        List<Integer> sourcePorts = new ArrayList<>();
        for (Socket socket : sockets(port)) {
            if (socket.state().equals("ESTAB")) {
                sourcePorts.add(socket.localPort());
            }
        }
        if (sourcePorts.isEmpty()) {
            fail("no connection is established to port " + port + ": " + sockets(port));
        }
        DroppedConnections dropped = new DroppedConnections(port, "connections to port " + port + " from ports "
            + sourcePorts + " held");
        for (int sourcePort : sourcePorts) {
            dropped.insert(List.of("-o", "lo", "-p", "tcp", "--sport", Integer.toString(sourcePort), "--dport",
                Integer.toString(port)));
        }
        return dropped;
    }

    /**
     * Starts dropping everything sent to {@code port} on loopback, on connections open or new: the
     * port's server is cut off while the rest of its process (its other ports) goes on.
     */
    static DroppedConnections everythingTo(int port) throws Exception {
        DroppedConnections dropped = new DroppedConnections(port, "everything sent to port " + port + " dropped");
        dropped.insert(List.of("-o", "lo", "-p", "tcp", "--dport", Integer.toString(port)));
        return dropped;
    }

    private void insert(List<String> match) throws Exception {
        NbdTools.ToolResult added = NbdTools.run(rule("-I", match));
        if (added.exitCode() != 0) {
            close();
            String failure = String.join(" ", rule("-I", match)) + ": " + added.output();
            if ("1".equals(System.getenv("HERD_TEST_REQUIRE_ROOT"))) {
                fail(failure + " (HERD_TEST_REQUIRE_ROOT=1 asks for this test to run)");
            }
            assumeTrue(false, "dropping packets needs root and iptables: " + failure);
        }
        rules.add(match);
    }

    /** Connections to {@code port} whose sender still has data not acknowledged. */
    static List<Socket> unsent(int port) throws Exception {
        return sockets(port).stream().filter(socket -> socket.sendQueue() > 0).toList();
    }

    /** One line of {@code ss}: a socket's state, bytes not yet acknowledged and its local port. */
    record Socket(String state, long sendQueue, int localPort) {}

    private static List<Socket> sockets(int port) throws Exception {
        NbdTools.ToolResult listed = NbdTools.run(List.of("ss", "-tnH", "( dport = :" + port + " )"));
        if (listed.exitCode() != 0) {
            throw new AssertionError("ss: " + listed.output());
        }
        List<Socket> sockets = new ArrayList<>();
        for (String line : listed.output().split("\n")) {
            String[] columns = line.strip().split("\\s+");
            if (columns.length >= 5) {
                String local = columns[3];
                sockets.add(new Socket(columns[0], Long.parseLong(columns[2]),
                    Integer.parseInt(local.substring(local.lastIndexOf(':') + 1))));
            }
        }
        return sockets;
    }

    private static List<String> rule(String action, List<String> match) {
        List<String> rule = new ArrayList<>(List.of("iptables", action, "OUTPUT"));
        rule.addAll(match);
        rule.addAll(List.of("-j", "DROP"));
        return rule;
    }

    /** Stops dropping: what was held is delivered at its sender's next retransmission. */
    @Override
    public void close() {
        List<String> failures = new ArrayList<>();
        for (List<String> match : rules) {
            try {
                NbdTools.ToolResult removed = NbdTools.run(rule("-D", match));
                if (removed.exitCode() != 0) {
                    failures.add(match + ": " + removed.output());
                }
            } catch (Exception e) {
                failures.add(match + ": " + e);
            }
        }
        rules.clear();
        if (!failures.isEmpty()) {
            throw new AssertionError("could not remove iptables rules for port " + port + ": " + failures);
        }
    }

    @Override
    public String toString() {
        return what;
    }
}
