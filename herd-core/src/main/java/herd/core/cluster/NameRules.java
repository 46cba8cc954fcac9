package herd.core.cluster;

import herd.core.ErrorCode;
import herd.core.Limits;
import herd.core.Rejection;
import java.util.Optional;
import java.util.regex.Pattern;

/** Names of nodes and clusters, and HOST:PORT addresses. */
public final class NameRules {
    private NameRules() {}

    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9a-fA-F:.]+]");

    public static Optional<Rejection> checkName(String what, String name) {
        if (name == null || name.isEmpty() || name.length() > Limits.MAX_NAME_CHARS || !NAME.matcher(name).matches()) {
            return Optional.of(new Rejection(ErrorCode.NAME_INVALID, what + " name '" + name
                + "' is not valid: use 1 to " + Limits.MAX_NAME_CHARS
                + " lower-case letters, digits and inner dashes, like 's1' or 'web-2'"));
        }
        return Optional.empty();
    }

    public static Optional<Rejection> checkAddress(String what, String address) {
        String hint = ": write HOST:PORT, like 10.0.0.5:7100 or node1.example:7100";
        if (address == null || address.isEmpty()) {
            return Optional.of(new Rejection(ErrorCode.ADDRESS_INVALID, what + " address is missing" + hint));
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            return Optional.of(new Rejection(ErrorCode.ADDRESS_INVALID, what + " address '" + address + "' has no port" + hint));
        }
        String host = address.substring(0, colon);
        if (!HOST.matcher(host).matches()) {
            return Optional.of(new Rejection(ErrorCode.ADDRESS_INVALID, what + " address '" + address + "' has an invalid host" + hint));
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            return Optional.of(new Rejection(ErrorCode.ADDRESS_INVALID, what + " address '" + address
                + "' has an invalid port (1-65535)" + hint));
        }
        return Optional.empty();
    }

    /**
     * By convention a node's Raft port is its API port + 1. An address that is not HOST:PORT is
     * returned as it is, for the address checks to report.
     */
    public static String defaultRaftAddress(String apiAddress) {
        if (checkAddress("API", apiAddress).isPresent() || port(apiAddress) == 65535) {
            return apiAddress;
        }
        return host(apiAddress) + ":" + (port(apiAddress) + 1);
    }

    public static String host(String address) {
        return address.substring(0, address.lastIndexOf(':'));
    }

    public static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }
}
