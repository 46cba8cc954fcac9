package herd.agent.runner;

import java.util.List;

/** Meta-data XML, in the OCF format, for agents that have no script of their own to ask. Pure. */
public final class BuiltInMetadata {

    /** One parameter of a built-in agent. */
    public record Param(String name, boolean required, String defaultValue, String description) {
    }

    private static final List<String> RESOURCE_ACTIONS = List.of("start", "stop", "monitor", "meta-data", "validate-all");

    private BuiltInMetadata() {
    }

    public static String process() {
        return xml("process", "A command run as a detached process, watched through its pid file and an optional health check",
            List.of(
                new Param("command", true, null, "Command line, run with /bin/sh -c in its own session"),
                new Param("directory", false, null, "Working directory of the command"),
                new Param("check_tcp", false, null, "host:port that must accept a TCP connection for the process to count as healthy"),
                new Param("check_http", false, null, "URL that must answer 2xx or 3xx for the process to count as healthy")),
            RESOURCE_ACTIONS);
    }

    public static String floatingIp() {
        return xml("floating-ip", "An IP address added to a network interface, announced with gratuitous ARP",
            List.of(
                new Param("ip", true, null, "The address, IPv4 or IPv6"),
                new Param("cidr_netmask", false, "32", "Prefix length"),
                new Param("nic", true, null, "Interface to add the address to")),
            RESOURCE_ACTIONS);
    }

    public static String herdScriptFence() {
        return xml("herd-script", "Fences a node by running a command with HERD_FENCE_ACTION and HERD_FENCE_TARGET set; exit 0 means success",
            List.of(new Param("command", true, null, "Command line, run with /bin/sh -c")),
            List.of("off", "reboot", "on", "status", "monitor", "list", "metadata"));
    }

    public static String lsb(String scriptName) {
        return xml(scriptName, "LSB init script " + scriptName, List.of(),
            List.of("start", "stop", "restart", "reload", "force-reload", "status", "monitor", "meta-data"));
    }

    static String xml(String name, String description, List<Param> params, List<String> actions) {
        StringBuilder out = new StringBuilder()
            .append("<?xml version=\"1.0\"?>\n")
            .append("<resource-agent name=\"").append(escape(name)).append("\" version=\"1.0\">\n")
            .append("  <version>1.1</version>\n")
            .append("  <longdesc lang=\"en\">").append(escape(description)).append("</longdesc>\n")
            .append("  <shortdesc lang=\"en\">").append(escape(description)).append("</shortdesc>\n")
            .append("  <parameters>\n");
        for (Param param : params) {
            out.append("    <parameter name=\"").append(escape(param.name())).append("\" required=\"")
                .append(param.required() ? 1 : 0).append("\" unique=\"0\">\n")
                .append("      <longdesc lang=\"en\">").append(escape(param.description())).append("</longdesc>\n")
                .append("      <shortdesc lang=\"en\">").append(escape(param.description())).append("</shortdesc>\n")
                .append("      <content type=\"string\"");
            if (param.defaultValue() != null) {
                out.append(" default=\"").append(escape(param.defaultValue())).append('"');
            }
            out.append("/>\n    </parameter>\n");
        }
        out.append("  </parameters>\n  <actions>\n");
        for (String action : actions) {
            out.append("    <action name=\"").append(escape(action)).append("\" timeout=\"20s\"/>\n");
        }
        return out.append("  </actions>\n</resource-agent>\n").toString();
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
