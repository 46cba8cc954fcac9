package herd.it.netns;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A private LAN of network namespaces: one per server, each with an {@code eth0} whose veth peer
 * is a port of the bridge {@code br0} in a hub namespace. Servers get {@code SUBNET.1},
 * {@code SUBNET.2}, ... and the hub (where test clients run) {@code SUBNET.254}, all /24; the
 * subnet exists only inside these namespaces, so it cannot clash with the machine's own network.
 *
 * <p>{@link #isolate(int)} takes a server's port off the bridge: its link stays up but every
 * packet to and from it is lost, like a firewall dropping everything (no reset, no carrier loss).
 */
public final class BridgedNetwork {
    /** The device each server namespace talks on. */
    public static final String DEVICE = "eth0";
    private static final String BRIDGE = "br0";
    private static final int PREFIX_LENGTH = 24;
    private static final int HUB_HOST = 254;

    private final Namespaces namespaces;
    private final String subnet;
    private final String hub;
    private final List<String> servers = new ArrayList<>();

    private BridgedNetwork(Namespaces namespaces, String subnet, String hub) {
        this.namespaces = namespaces;
        this.subnet = subnet;
        this.hub = hub;
    }

    /**
     * Creates the hub and {@code serverCount} server namespaces, wired and up.
     *
     * @param subnet the first three octets of a private /24, e.g. {@code "10.213.7"}
     */
    public static BridgedNetwork create(Namespaces namespaces, String subnet, int serverCount) {
        if (serverCount < 1 || serverCount >= HUB_HOST) {
            throw new IllegalArgumentException("server count must be 1.." + (HUB_HOST - 1) + ", got " + serverCount);
        }
        BridgedNetwork network = new BridgedNetwork(namespaces, subnet, namespaces.create("hub"));
        namespaces.ip(network.hub, "link", "add", BRIDGE, "type", "bridge");
        namespaces.ip(network.hub, "addr", "add", subnet + "." + HUB_HOST + "/" + PREFIX_LENGTH, "dev", BRIDGE);
        namespaces.ip(network.hub, "link", "set", BRIDGE, "up");
        // Let the hub learn an address from gratuitous ARP even when it has no entry for it yet (by
        // default Linux only updates entries it has), so a test can see who announced the floating address.
        Commands.run(Namespaces.inside(network.hub, List.of("sh", "-c",
            "echo 1 > /proc/sys/net/ipv4/conf/" + BRIDGE + "/arp_accept")), Namespaces.IP_TIMEOUT).orThrow();
        for (int server = 1; server <= serverCount; server++) {
            network.addServer(server);
        }
        return network;
    }

    private void addServer(int server) {
        String namespace = namespaces.create("s" + server);
        String port = hubPort(server);
        // Created in the hub with its peer moved straight into the server's namespace.
        namespaces.ip(hub, "link", "add", port, "type", "veth", "peer", "name", DEVICE, "netns", namespace);
        namespaces.ip(hub, "link", "set", port, "master", BRIDGE, "up");
        namespaces.ip(namespace, "addr", "add", address(server) + "/" + PREFIX_LENGTH, "dev", DEVICE);
        namespaces.ip(namespace, "link", "set", DEVICE, "up");
        servers.add(namespace);
    }

    public String hubNamespace() {
        return hub;
    }

    /** The namespace of server {@code server} (1-based). */
    public String serverNamespace(int server) {
        return servers.get(server - 1);
    }

    public int serverCount() {
        return servers.size();
    }

    /** The IPv4 address of server {@code server} (1-based) on its {@link #DEVICE}. */
    public String address(int server) {
        return subnet + "." + server;
    }

    /** An address of the subnet no server or hub uses, with its prefix, e.g. {@code 10.213.7.100/24}. */
    public String spareAddressWithPrefix(int host) {
        if (host <= serverCount() || host >= HUB_HOST) {
            throw new IllegalArgumentException("host " + host + " is taken or outside the subnet: use "
                + (serverCount() + 1) + ".." + (HUB_HOST - 1));
        }
        return subnet + "." + host + "/" + PREFIX_LENGTH;
    }

    /** Cuts server {@code server} off from everyone: its bridge port is detached, its own link stays up. */
    public void isolate(int server) {
        namespaces.ip(hub, "link", "set", hubPort(server), "nomaster");
    }

    /** Undoes {@link #isolate(int)}. */
    public void reconnect(int server) {
        namespaces.ip(hub, "link", "set", hubPort(server), "master", BRIDGE);
    }

    /** True when {@code address} (without prefix) is configured on server {@code server}'s device right now. */
    public boolean holds(int server, String address) {
        String shown = namespaces.ip(serverNamespace(server), "-o", "addr", "show", "dev", DEVICE);
        return shown.contains(" " + address + "/");
    }

    /** The MAC address of server {@code server}'s {@link #DEVICE}. */
    public String macAddress(int server) {
        return field(namespaces.ip(serverNamespace(server), "-o", "link", "show", "dev", DEVICE), "link/ether")
            .orElseThrow(() -> new IllegalStateException(DEVICE + " of s" + server + " shows no MAC address"));
    }

    /** The MAC address the hub's ARP table gives {@code address}, if it has one. */
    public Optional<String> hubNeighbour(String address) {
        return field(namespaces.ip(hub, "neigh", "show", "to", address, "dev", BRIDGE), "lladdr");
    }

    /** The word after {@code key} in `ip` output. */
    private static Optional<String> field(String output, String key) {
        String[] words = output.trim().split("\\s+");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals(key)) {
                return Optional.of(words[i + 1]);
            }
        }
        return Optional.empty();
    }

    private static String hubPort(int server) {
        return "s" + server + "port";
    }
}
