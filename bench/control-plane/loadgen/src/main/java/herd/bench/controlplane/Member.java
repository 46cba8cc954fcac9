package herd.bench.controlplane;

import java.util.ArrayList;
import java.util.List;

/** One member of the cluster under test: its name and the address its clients talk to. */
record Member(String name, String host, int port) {

    Member {
        if (name.isBlank()) {
            throw new IllegalArgumentException("a member needs a name, e.g. s1=127.0.0.1:2379");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("member " + name + " has port " + port + "; use 1..65535");
        }
    }

    String hostPort() {
        return host + ":" + port;
    }

    /** Parses "s1=127.0.0.1:2379,s2=127.0.0.1:2479,...". */
    static List<Member> parseList(String spec) {
        List<Member> members = new ArrayList<>();
        for (String item : spec.split(",")) {
            members.add(parseOne(item.trim()));
        }
        if (members.size() < 2) {
            throw new IllegalArgumentException("--members lists " + members.size()
                    + " member(s); a cluster under test has at least 2, e.g. s1=127.0.0.1:2379,s2=127.0.0.1:2479");
        }
        return List.copyOf(members);
    }

    private static Member parseOne(String item) {
        int equals = item.indexOf('=');
        int colon = item.lastIndexOf(':');
        if (equals <= 0 || colon <= equals + 1 || colon == item.length() - 1) {
            throw new IllegalArgumentException("member '" + item + "' is not NAME=HOST:PORT, e.g. s1=127.0.0.1:2379");
        }
        String portText = item.substring(colon + 1);
        try {
            return new Member(item.substring(0, equals), item.substring(equals + 1, colon), Integer.parseInt(portText));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member '" + item + "' has port '" + portText + "', which is not a number");
        }
    }
}
