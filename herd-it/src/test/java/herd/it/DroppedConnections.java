package herd.it;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * Holds the data of the TCP connections open to a port on loopback: while an instance is open,
 * iptables drops what their senders send (the receiver's acknowledgements still flow), so a request
 * sent on one of them waits in the sender's kernel, retransmitted with growing pauses, and arrives
 * after {@link #close}. Connections opened later are not held. Needs root and iptables:
 * {@code bin/test} sets {@code HERD_TEST_REQUIRE_ROOT=1} as root, and then a test that cannot hold
 * connections fails rather than skips.
 */
final class DroppedConnections implements AutoCloseable {
    private final int port;
    private final List<Integer> sourcePorts;

    private DroppedConnections(int port, List<Integer> sourcePorts) {
        this.port = port;
        this.sourcePorts = sourcePorts;
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
        DroppedConnections dropped = new DroppedConnections(port, new ArrayList<>());
        for (int sourcePort : sourcePorts) {
            NbdTools.ToolResult added = NbdTools.run(rule("-I", port, sourcePort));
            if (added.exitCode() != 0) {
                dropped.close();
                String failure = String.join(" ", rule("-I", port, sourcePort)) + ": " + added.output();
                if ("1".equals(System.getenv("HERD_TEST_REQUIRE_ROOT"))) {
                    fail(failure + " (HERD_TEST_REQUIRE_ROOT=1 asks for this test to run)");
                }
                assumeTrue(false, "holding connections needs root and iptables: " + failure);
            }
            dropped.sourcePorts.add(sourcePort);
        }
        return dropped;
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

    private static List<String> rule(String action, int port, int sourcePort) {
        return List.of("iptables", action, "OUTPUT", "-o", "lo", "-p", "tcp", "--sport", Integer.toString(sourcePort),
            "--dport", Integer.toString(port), "-j", "DROP");
    }

    /** Stops dropping: what was held is delivered at its sender's next retransmission. */
    @Override
    public void close() {
        List<String> failures = new ArrayList<>();
        for (int sourcePort : sourcePorts) {
            try {
                NbdTools.ToolResult removed = NbdTools.run(rule("-D", port, sourcePort));
                if (removed.exitCode() != 0) {
                    failures.add(sourcePort + ": " + removed.output());
                }
            } catch (Exception e) {
                failures.add(sourcePort + ": " + e);
            }
        }
        sourcePorts.clear();
        if (!failures.isEmpty()) {
            throw new AssertionError("could not remove iptables rules for port " + port + ": " + failures);
        }
    }

    @Override
    public String toString() {
        return "connections to port " + port + " from ports " + sourcePorts + " held";
    }
}
