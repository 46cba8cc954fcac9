package herd.agent.runner;

import herd.agent.OperationRequest;
import herd.agent.exec.ChildCommand;
import herd.agent.exec.ChildOutcome;
import herd.agent.exec.ProcessLauncher;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** herd:floating-ip, a built-in agent: {@code ip addr add/del} plus a gratuitous ARP on start. */
public final class FloatingIpAgent implements AgentRunner {

    private static final Logger log = LoggerFactory.getLogger(FloatingIpAgent.class);

    public static final String NAME = "herd:floating-ip";
    public static final String DEFAULT_CIDR_NETMASK = "32";
    private static final List<Path> ARPING_LOCATIONS = List.of(Path.of("/usr/sbin/arping"), Path.of("/usr/bin/arping"));
    private static final int IP_OUTPUT_LIMIT_BYTES = 256 * 1024;

    private final ProcessLauncher launcher;

    public FloatingIpAgent(ProcessLauncher launcher) {
        this.launcher = launcher;
    }

    /** The validated parameters. */
    record Address(String ip, int prefixLength, String nic) {
        String withPrefix() {
            return ip + "/" + prefixLength;
        }
    }

    @Override
    public AgentAnswer run(OperationRequest request) {
        if (request.action().equals("meta-data")) {
            return AgentAnswer.metadata(BuiltInMetadata.floatingIp());
        }
        Address address;
        try {
            address = parse(request);
        } catch (IllegalArgumentException e) {
            return AgentAnswer.notConfigured(e.getMessage());
        }
        return switch (request.action()) {
            case "validate-all" -> AgentAnswer.ok();
            case "start" -> start(address, request.timeoutMillis());
            case "monitor", "status" -> monitor(address, request.timeoutMillis());
            case "stop" -> stop(address, request.timeoutMillis());
            default -> AgentAnswer.notSupported(NAME, request.action());
        };
    }

    static Address parse(OperationRequest request) {
        String ip = request.param("ip", "");
        String nic = request.param("nic", "");
        String netmask = request.param("cidr_netmask", DEFAULT_CIDR_NETMASK);
        if (ip.isEmpty() || !(ip.matches("[0-9.]+") || ip.matches("[0-9a-fA-F:]+"))) {
            throw new IllegalArgumentException("herd:floating-ip needs the parameter 'ip' (an IPv4 or IPv6 address), got '" + ip + "'");
        }
        try {
            InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + ip + "' is not an IP address");
        }
        if (nic.isEmpty() || !nic.matches("[A-Za-z0-9_.@-]{1,15}")) {
            throw new IllegalArgumentException("herd:floating-ip needs the parameter 'nic' (an interface name such as eth0), got '" + nic + "'");
        }
        int maxPrefix = ip.contains(":") ? 128 : 32;
        int prefix;
        try {
            prefix = Integer.parseInt(netmask);
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (prefix < 0 || prefix > maxPrefix) {
            throw new IllegalArgumentException("cidr_netmask '" + netmask + "' must be a prefix length from 0 to " + maxPrefix);
        }
        return new Address(ip, prefix, nic);
    }

    private AgentAnswer start(Address address, long timeoutMillis) {
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000;
        AgentAnswer present = monitor(address, timeoutMillis);
        if (present.succeeded()) {
            return present;
        }
        ChildOutcome added = launcher.run(ChildCommand.of(
            List.of("ip", "addr", "add", address.withPrefix(), "dev", address.nic()), remaining(deadlineNanos)));
        AgentAnswer answer = ChildAnswers.fromCodes(added, "ip addr add", code -> code == 0 ? 0 : 1);
        if (!answer.succeeded()) {
            return answer;
        }
        // The address works as soon as it is added; the gratuitous ARP only refreshes neighbours' caches,
        // and arping lingers about a second after sending, so the start does not wait for it.
        long announceTimeoutMillis = remaining(deadlineNanos);
        Thread.ofVirtual().name("herd-arping").start(() -> announce(address, announceTimeoutMillis));
        return AgentAnswer.ok();
    }

    private void announce(Address address, long timeoutMillis) {
        if (address.ip().contains(":")) {
            return; // IPv6 neighbours learn through unsolicited neighbour advertisements the kernel sends.
        }
        Optional<Path> arping = ARPING_LOCATIONS.stream().filter(Files::isExecutable).findFirst();
        if (arping.isEmpty()) {
            log.info("arping is not installed; no gratuitous ARP for {}", address.ip());
            return;
        }
        ChildOutcome sent = launcher.run(ChildCommand.of(
            List.of(arping.get().toString(), "-U", "-c", "1", "-I", address.nic(), address.ip()), timeoutMillis));
        if (!(sent instanceof ChildOutcome.Exited exited && exited.exitCode() == 0)) {
            log.warn("gratuitous ARP for {} on {} failed: {}", address.ip(), address.nic(), sent);
        }
    }

    private AgentAnswer monitor(Address address, long timeoutMillis) {
        ChildOutcome shown = launcher.run(new ChildCommand(List.of("ip", "-o", "addr", "show", "dev", address.nic()),
            java.util.Map.of(), null, null, timeoutMillis, IP_OUTPUT_LIMIT_BYTES));
        return switch (shown) {
            case ChildOutcome.Exited exited when exited.exitCode() == 0 ->
                hasAddress(exited.stdout(), address.ip()) ? AgentAnswer.ok() : AgentAnswer.notRunning("");
            // A missing interface holds no address; start will say why it cannot add it.
            case ChildOutcome.Exited exited -> AgentAnswer.notRunning("interface " + address.nic() + ": " + exited.stderr().strip());
            default -> ChildAnswers.fromCodes(shown, "ip addr show", code -> 1);
        };
    }

    private AgentAnswer stop(Address address, long timeoutMillis) {
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000;
        AgentAnswer present = monitor(address, timeoutMillis);
        if (present.rc() == 7 && present.status() == herd.agent.ExecStatus.DONE) {
            return AgentAnswer.ok();
        }
        ChildOutcome deleted = launcher.run(ChildCommand.of(
            List.of("ip", "addr", "del", address.withPrefix(), "dev", address.nic()), remaining(deadlineNanos)));
        return ChildAnswers.fromCodes(deleted, "ip addr del", code -> code == 0 ? 0 : 1);
    }

    /** True when {@code ip -o addr show} output lists the address. */
    static boolean hasAddress(String ipOutput, String ip) {
        for (String line : ipOutput.split("\n")) {
            String[] words = line.trim().split("\\s+");
            for (int i = 0; i + 1 < words.length; i++) {
                if ((words[i].equals("inet") || words[i].equals("inet6")) && words[i + 1].startsWith(ip + "/")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static long remaining(long deadlineNanos) {
        return Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }
}
