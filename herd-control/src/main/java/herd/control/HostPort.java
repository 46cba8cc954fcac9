package herd.control;

/** A host:port pair, parsed with an error that says what is wrong. */
record HostPort(String host, int port) {

    static HostPort parse(String text, String what) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(what + " is missing: give it as host:port, e.g. 10.0.0.1:7100");
        }
        final int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException(what + " '" + text + "' is not host:port, e.g. 10.0.0.1:7100");
        }
        final int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + text + "' has a port that is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " '" + text + "' has port " + port + ", outside 1-65535");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new HostPort(host, port);
    }
}
