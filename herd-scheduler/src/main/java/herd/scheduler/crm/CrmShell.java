package herd.scheduler.crm;

import herd.scheduler.cib.Durations;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Colocation;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Expression;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Group;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.Operation;
import herd.scheduler.model.Order;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.scheduler.model.Role;
import herd.scheduler.model.Rule;
import herd.scheduler.model.Score;
import herd.scheduler.model.TicketConstraint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The crm shell's configuration syntax ({@code crm configure show}): parse it into the model and print
 * the model back. Typographic quotes (“ ” „ ″ ‘ ’) are read as plain quotes, since configurations are
 * often copied from web pages. Statements: node, primitive, group, clone, ms, location (score or
 * rules), colocation, order, rsc_ticket, fencing_topology, property, rsc_defaults, op_defaults.
 *
 * <p>{@code fencing_topology dev1 dev2,dev3} gives every node level 1 = dev1 and level 2 = dev2 and dev3
 * (a comma joins devices that must all succeed); {@code fencing_topology node-a: ipmi-a,psu-a sbd node-b: ipmi-b}
 * gives each named node its own levels. A node's levels (and the all-nodes levels) are listed in one
 * place; a node with levels of its own does not use the all-nodes levels.
 */
public final class CrmShell {
    private CrmShell() {}

    /** A statement that cannot be read: names the line and the problem. */
    public static final class CrmSyntaxException extends IllegalArgumentException {
        private final int line;

        CrmSyntaxException(int line, String problem) {
            super("line " + line + ": " + problem);
            this.line = line;
        }

        public int line() {
            return line;
        }
    }

    // ------------------------------------------------------------------ parsing

    /** A logical statement: its tokens and the line it starts on. */
    private record Statement(int line, List<String> tokens) {}

    public static Configuration parse(String text) {
        Builder b = new Builder();
        for (Statement st : statements(text)) b.statement(st);
        return b.build();
    }

    private static String normalizeQuotes(String s) {
        return s.replace('\u201C', '"').replace('\u201D', '"').replace('\u201E', '"').replace('\u2033', '"')
                .replace('\u00AB', '"').replace('\u00BB', '"').replace('\u2018', '\'').replace('\u2019', '\'')
                .replace('\u2032', '\'').replace('\u00A0', ' ');
    }

    private static List<Statement> statements(String text) {
        List<Statement> out = new ArrayList<>();
        String[] lines = normalizeQuotes(text).split("\r?\n", -1);
        StringBuilder cur = new StringBuilder();
        int start = 0;
        for (int k = 0; k < lines.length; k++) {
            String line = lines[k];
            String trimmed = line.strip();
            if (cur.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#"))) continue;
            if (cur.isEmpty()) start = k + 1;
            boolean continued = trimmed.endsWith("\\");
            cur.append(' ').append(continued ? trimmed.substring(0, trimmed.length() - 1) : trimmed);
            if (!continued) {
                out.add(new Statement(start, tokenize(cur.toString(), start)));
                cur.setLength(0);
            }
        }
        if (!cur.isEmpty()) out.add(new Statement(start, tokenize(cur.toString(), start)));
        return out;
    }

    /** Splits on blanks, keeping quoted text (with its quotes removed) inside one token. */
    private static List<String> tokenize(String s, int line) {
        List<String> out = new ArrayList<>();
        StringBuilder tok = new StringBuilder();
        boolean inToken = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) quote = 0;
                else tok.append(c);
                continue;
            }
            if (c == '"' || c == '\'') {
                quote = c;
                inToken = true;
            } else if (Character.isWhitespace(c)) {
                if (inToken) out.add(tok.toString());
                tok.setLength(0);
                inToken = false;
            } else {
                tok.append(c);
                inToken = true;
            }
        }
        if (quote != 0) throw new CrmSyntaxException(line, "a quote " + quote + " is never closed");
        if (inToken) out.add(tok.toString());
        return out;
    }

    private static final class Builder {
        final Map<String, String> props = new LinkedHashMap<>();
        final Map<String, String> rscDefaults = new LinkedHashMap<>();
        final Map<String, String> opDefaults = new LinkedHashMap<>();
        final List<NodeConfig> nodes = new ArrayList<>();
        final Map<String, Primitive> primitives = new LinkedHashMap<>();
        final List<String> order = new ArrayList<>(); // top-level ids in the order given
        final Map<String, Resource> containers = new LinkedHashMap<>();
        final Map<String, Integer> definedAt = new LinkedHashMap<>();
        final List<Location> locations = new ArrayList<>();
        final List<Colocation> colocations = new ArrayList<>();
        final List<Order> orders = new ArrayList<>();
        final List<TicketConstraint> tickets = new ArrayList<>();
        final List<FencingLevel> fencing = new ArrayList<>();
        final Map<String, Integer> fencingTargetLine = new LinkedHashMap<>();
        final Map<String, List<Integer>> pendingContainers = new LinkedHashMap<>();
        final Map<String, List<String>> groupMembers = new LinkedHashMap<>();
        final Map<String, Map<String, String>> containerMeta = new LinkedHashMap<>();
        final Map<String, String[]> cloneDefs = new LinkedHashMap<>(); // id -> {child, promotable}

        void statement(Statement st) {
            List<String> t = st.tokens();
            int line = st.line();
            String kw = t.get(0);
            switch (kw) {
                case "node" -> node(line, t);
                case "primitive" -> primitive(line, t);
                case "group" -> group(line, t);
                case "clone", "ms", "master" -> clone(line, t, !kw.equals("clone"));
                case "location" -> location(line, t);
                case "colocation", "collocation" -> colocation(line, t);
                case "order" -> order(line, t);
                case "rsc_ticket" -> ticket(line, t);
                case "fencing_topology" -> fencingTopology(line, t);
                case "property" -> pairs(line, t, 1, props, "property");
                case "rsc_defaults" -> pairs(line, t, 1, rscDefaults, "rsc_defaults");
                case "op_defaults" -> pairs(line, t, 1, opDefaults, "op_defaults");
                default -> throw new CrmSyntaxException(line, "unknown statement '" + kw
                        + "' (expected node, primitive, group, clone, ms, location, colocation, order, rsc_ticket, fencing_topology, property, rsc_defaults or op_defaults)");
            }
        }

        private void define(int line, String id, String kind) {
            if (!id.matches("[A-Za-z0-9_.:#@-]+") || id.contains(":")) {
                throw new CrmSyntaxException(line, kind + " id '" + id + "' may contain only letters, digits, '_', '.', '-'");
            }
            Integer prev = definedAt.putIfAbsent(id, line);
            if (prev != null) throw new CrmSyntaxException(line, kind + " " + id + " is already defined on line " + prev);
        }

        private static String need(int line, List<String> t, int i, String what) {
            if (i >= t.size()) throw new CrmSyntaxException(line, what + " is missing");
            return t.get(i);
        }

        private void pairs(int line, List<String> t, int from, Map<String, String> into, String what) {
            for (int i = from; i < t.size(); i++) {
                String tok = t.get(i);
                if (tok.startsWith("$id=") || tok.endsWith(":") && !tok.contains("=")) continue; // set ids
                int eq = tok.indexOf('=');
                if (eq <= 0) throw new CrmSyntaxException(line, what + ": '" + tok + "' is not name=value");
                into.put(tok.substring(0, eq), tok.substring(eq + 1));
            }
        }

        /** Reads name=value pairs from i until a keyword; returns the index after them. */
        private static int readPairs(int line, List<String> t, int i, Map<String, String> into, String section) {
            while (i < t.size() && t.get(i).contains("=") && !isKeyword(t.get(i))) {
                String tok = t.get(i);
                int eq = tok.indexOf('=');
                if (eq <= 0) throw new CrmSyntaxException(line, section + ": '" + tok + "' is not name=value");
                if (!tok.startsWith("$id=")) into.put(tok.substring(0, eq), tok.substring(eq + 1));
                i++;
            }
            return i;
        }

        private static boolean isKeyword(String s) {
            return switch (s) {
                case "params", "meta", "op", "utilization", "attributes", "rule" -> true;
                default -> false;
            };
        }

        void node(int line, List<String> t) {
            int i = 1;
            String id = null;
            if (need(line, t, i, "node name").startsWith("$id=")) {
                id = t.get(i).substring(4);
                i++;
            }
            String name = need(line, t, i++, "node name");
            String type = "member";
            if (name.contains(":")) {
                type = name.substring(name.indexOf(':') + 1);
                name = name.substring(0, name.indexOf(':'));
            }
            Map<String, String> attrs = new LinkedHashMap<>();
            Map<String, String> util = new LinkedHashMap<>();
            while (i < t.size()) {
                String kw = t.get(i++);
                switch (kw) {
                    case "attributes" -> i = readPairs(line, t, i, attrs, "attributes");
                    case "utilization" -> i = readPairs(line, t, i, util, "utilization");
                    default -> throw new CrmSyntaxException(line, "node " + name + ": unexpected '" + kw + "' (expected attributes or utilization)");
                }
            }
            for (NodeConfig n : nodes) if (n.uname().equals(name)) throw new CrmSyntaxException(line, "node " + name + " is defined twice");
            nodes.add(new NodeConfig(id == null ? name : id, name, type, attrs, util, null));
        }

        void primitive(int line, List<String> t) {
            String id = need(line, t, 1, "primitive id");
            define(line, id, "primitive");
            String agent = need(line, t, 2, "primitive " + id + ": agent (class:provider:type)");
            String[] parts = agent.split(":");
            String cls;
            String provider = null;
            String type;
            if (parts.length == 3) {
                cls = parts[0];
                provider = parts[1];
                type = parts[2];
            } else if (parts.length == 2) {
                cls = parts[0];
                type = parts[1];
            } else {
                throw new CrmSyntaxException(line, "primitive " + id + ": agent '" + agent + "' is not class:provider:type or class:type");
            }
            if (cls.equals("ocf") && provider == null) {
                throw new CrmSyntaxException(line, "primitive " + id + ": an ocf agent needs a provider, e.g. ocf:heartbeat:" + type);
            }
            Map<String, String> params = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, String> util = new LinkedHashMap<>();
            List<Operation> ops = new ArrayList<>();
            int i = 3;
            while (i < t.size()) {
                String kw = t.get(i++);
                switch (kw) {
                    case "params" -> i = readPairs(line, t, i, params, "params");
                    case "meta" -> i = readPairs(line, t, i, meta, "meta");
                    case "utilization" -> i = readPairs(line, t, i, util, "utilization");
                    case "op" -> {
                        String name = need(line, t, i++, "primitive " + id + ": operation name after 'op'");
                        Map<String, String> attrs = new LinkedHashMap<>();
                        i = readPairs(line, t, i, attrs, "op " + name);
                        ops.add(operation(line, id, name, attrs));
                    }
                    default -> throw new CrmSyntaxException(line, "primitive " + id + ": unexpected '" + kw
                            + "' (expected params, meta, utilization or op)");
                }
            }
            primitives.put(id, new Primitive(id, cls, provider, type, params, meta, ops, util));
            order.add(id);
        }

        private static Operation operation(int line, String rsc, String name, Map<String, String> attrs) {
            long interval;
            try {
                interval = Durations.parseMillis(attrs.getOrDefault("interval", "0"));
            } catch (IllegalArgumentException e) {
                throw new CrmSyntaxException(line, "op " + name + " of " + rsc + ": " + e.getMessage());
            }
            Role role;
            try {
                role = Role.parse(attrs.get("role"));
            } catch (IllegalArgumentException e) {
                throw new CrmSyntaxException(line, "op " + name + " of " + rsc + ": " + e.getMessage());
            }
            boolean enabled = !"false".equalsIgnoreCase(attrs.getOrDefault("enabled", "true"));
            String id = rsc + "-" + name + "-" + attrs.getOrDefault("interval", "0");
            return new Operation(id, name, interval, role, attrs.get("on-fail"), enabled, attrs);
        }

        void group(int line, List<String> t) {
            String id = need(line, t, 1, "group id");
            define(line, id, "group");
            List<String> members = new ArrayList<>();
            Map<String, String> meta = new LinkedHashMap<>();
            int i = 2;
            while (i < t.size() && !isKeyword(t.get(i))) members.add(t.get(i++));
            while (i < t.size()) {
                String kw = t.get(i++);
                if (kw.equals("meta") || kw.equals("params")) i = readPairs(line, t, i, meta, kw);
                else throw new CrmSyntaxException(line, "group " + id + ": unexpected '" + kw + "' (expected meta)");
            }
            if (members.isEmpty()) throw new CrmSyntaxException(line, "group " + id + " lists no members");
            groupMembers.put(id, members);
            containerMeta.put(id, meta);
            pendingContainers.put(id, List.of(line));
            order.add(id);
        }

        void clone(int line, List<String> t, boolean promotable) {
            String id = need(line, t, 1, "clone id");
            define(line, id, promotable ? "ms" : "clone");
            String child = need(line, t, 2, "clone " + id + ": the resource to clone");
            Map<String, String> meta = new LinkedHashMap<>();
            int i = 3;
            while (i < t.size()) {
                String kw = t.get(i++);
                if (kw.equals("meta") || kw.equals("params")) i = readPairs(line, t, i, meta, kw);
                else throw new CrmSyntaxException(line, "clone " + id + ": unexpected '" + kw + "' (expected meta)");
            }
            cloneDefs.put(id, new String[] {child, Boolean.toString(promotable)});
            containerMeta.put(id, meta);
            pendingContainers.put(id, List.of(line));
            order.add(id);
        }

        void location(int line, List<String> t) {
            String id = need(line, t, 1, "location id");
            define(line, id, "location");
            String rsc = need(line, t, 2, "location " + id + ": resource");
            String pattern = null;
            if (rsc.startsWith("/") && rsc.endsWith("/") && rsc.length() > 2) {
                pattern = rsc.substring(1, rsc.length() - 1);
                rsc = null;
            }
            int i = 3;
            Role role = null;
            String discovery = null;
            while (i < t.size() && (t.get(i).startsWith("role=") || t.get(i).startsWith("resource-discovery="))) {
                String tok = t.get(i++);
                if (tok.startsWith("role=")) role = role(line, tok.substring(5));
                else discovery = tok.substring(tok.indexOf('=') + 1);
            }
            String next = need(line, t, i, "location " + id + ": a score and node, or a rule");
            if (!next.equals("rule")) {
                if (!next.endsWith(":")) throw new CrmSyntaxException(line, "location " + id + ": expected 'SCORE: NODE' or 'rule', got '" + next + "'");
                int score = score(line, next.substring(0, next.length() - 1));
                String node = need(line, t, i + 1, "location " + id + ": node after the score");
                if (i + 2 < t.size()) throw new CrmSyntaxException(line, "location " + id + ": unexpected '" + t.get(i + 2) + "' after the node");
                locations.add(new Location(id, rsc, pattern, node, score, role, List.of(), discovery));
                return;
            }
            List<Rule> rules = new ArrayList<>();
            int ruleNo = 0;
            while (i < t.size()) {
                if (!t.get(i).equals("rule")) throw new CrmSyntaxException(line, "location " + id + ": expected 'rule', got '" + t.get(i) + "'");
                i++;
                String ruleId = id + "-rule" + (ruleNo == 0 ? "" : "-" + ruleNo);
                ruleNo++;
                Role ruleRole = null;
                while (i < t.size() && (t.get(i).startsWith("$id=") || t.get(i).startsWith("$role=") || t.get(i).startsWith("role="))) {
                    String tok = t.get(i++);
                    if (tok.startsWith("$id=")) ruleId = tok.substring(4);
                    else ruleRole = role(line, tok.substring(tok.indexOf('=') + 1));
                }
                String scoreTok = need(line, t, i++, "rule of location " + id + ": score");
                if (!scoreTok.endsWith(":")) throw new CrmSyntaxException(line, "rule of location " + id + ": expected 'SCORE:' got '" + scoreTok + "'");
                String sc = scoreTok.substring(0, scoreTok.length() - 1);
                Integer score = null;
                String scoreAttr = null;
                if (isScore(sc)) score = Score.parse(sc);
                else scoreAttr = sc;
                int end = i;
                while (end < t.size() && !t.get(end).equals("rule")) end++;
                List<String> expr = t.subList(i, end);
                if (expr.isEmpty()) throw new CrmSyntaxException(line, "rule of location " + id + " has no expression after the score");
                rules.add(expression(line, ruleId, score, scoreAttr, ruleRole, expr));
                i = end;
            }
            locations.add(new Location(id, rsc, pattern, null, null, role, rules, discovery));
        }

        /** "a op b [and|or c op d ...]", "defined a", "not_defined a", "date gt X", "date in start=.. end=..". */
        private Rule expression(int line, String ruleId, Integer score, String scoreAttr, Role role, List<String> tok) {
            List<Expression> exprs = new ArrayList<>();
            String bool = null;
            int i = 0;
            int n = 0;
            while (i < tok.size()) {
                if (!exprs.isEmpty()) {
                    String op = tok.get(i++);
                    if (!op.equals("and") && !op.equals("or")) throw new CrmSyntaxException(line, "rule " + ruleId + ": expected 'and' or 'or', got '" + op + "'");
                    if (bool != null && !bool.equals(op)) throw new CrmSyntaxException(line, "rule " + ruleId + ": mixing 'and' and 'or' needs separate rules");
                    bool = op;
                }
                String a = need(line, tok, i, "rule " + ruleId + ": expression");
                String eid = ruleId + "-expression" + (n == 0 ? "" : "-" + n);
                n++;
                if (a.equals("defined") || a.equals("not_defined")) {
                    String attr = need(line, tok, i + 1, "rule " + ruleId + ": attribute after " + a);
                    exprs.add(new Expression.Attribute(eid, attr, a, null, null, null));
                    i += 2;
                } else if (a.equals("date")) {
                    String op = need(line, tok, i + 1, "rule " + ruleId + ": date operation");
                    String value = need(line, tok, i + 2, "rule " + ruleId + ": date value");
                    switch (op) {
                        case "gt" -> exprs.add(new Expression.Date(eid, "gt", value, null, null, null));
                        case "lt" -> exprs.add(new Expression.Date(eid, "lt", null, value, null, null));
                        default -> throw new CrmSyntaxException(line, "rule " + ruleId + ": date operation '" + op + "' is not gt or lt");
                    }
                    i += 3;
                } else {
                    String op = need(line, tok, i + 1, "rule " + ruleId + ": operation after " + a);
                    String type = null;
                    if (op.contains(":")) {
                        type = op.substring(0, op.indexOf(':'));
                        op = op.substring(op.indexOf(':') + 1);
                    }
                    if (!List.of("eq", "ne", "lt", "gt", "lte", "gte").contains(op)) {
                        throw new CrmSyntaxException(line, "rule " + ruleId + ": '" + op + "' is not eq, ne, lt, gt, lte, gte, defined or not_defined");
                    }
                    String value = need(line, tok, i + 2, "rule " + ruleId + ": value after " + a + " " + op);
                    exprs.add(new Expression.Attribute(eid, a, op, value, type, null));
                    i += 3;
                }
            }
            return new Rule(ruleId, score, scoreAttr, bool == null ? "and" : bool, role, exprs);
        }

        void colocation(int line, List<String> t) {
            String id = need(line, t, 1, "colocation id");
            define(line, id, "colocation");
            String sc = need(line, t, 2, "colocation " + id + ": score");
            if (!sc.endsWith(":")) throw new CrmSyntaxException(line, "colocation " + id + ": expected 'SCORE:', got '" + sc + "'");
            int score = score(line, sc.substring(0, sc.length() - 1));
            List<String> rscs = new ArrayList<>();
            for (int i = 3; i < t.size(); i++) {
                if (t.get(i).startsWith("node-attribute=")) continue;
                rscs.add(t.get(i));
            }
            if (rscs.size() < 2) throw new CrmSyntaxException(line, "colocation " + id + ": needs two resources, RSC WITH-RSC");
            for (int k = 0; k + 1 < rscs.size(); k++) {
                String[] d = withRole(line, rscs.get(k));
                String[] p = withRole(line, rscs.get(k + 1));
                colocations.add(new Colocation(id, d[0], p[0], score, d[1] == null ? null : role(line, d[1]),
                        p[1] == null ? null : role(line, p[1]), true));
            }
        }

        void order(int line, List<String> t) {
            String id = need(line, t, 1, "order id");
            define(line, id, "order");
            int i = 2;
            String kind = "Mandatory";
            String k = need(line, t, i, "order " + id + ": FIRST THEN");
            if (k.endsWith(":")) {
                String v = k.substring(0, k.length() - 1);
                switch (v.toLowerCase(Locale.ROOT)) {
                    case "mandatory" -> kind = "Mandatory";
                    case "optional" -> kind = "Optional";
                    case "serialize" -> kind = "Serialize";
                    default -> kind = score(line, v) == 0 ? "Optional" : "Mandatory";
                }
                i++;
            }
            boolean symmetrical = !kind.equals("Serialize");
            List<String> rscs = new ArrayList<>();
            for (; i < t.size(); i++) {
                String tok = t.get(i);
                if (tok.startsWith("symmetrical=")) symmetrical = tok.substring(12).equalsIgnoreCase("true");
                else rscs.add(tok);
            }
            if (rscs.size() < 2) throw new CrmSyntaxException(line, "order " + id + ": needs FIRST and THEN resources");
            for (int n = 0; n + 1 < rscs.size(); n++) {
                String[] f = withRole(line, rscs.get(n));
                String[] th = withRole(line, rscs.get(n + 1));
                String fa = f[1] == null ? "start" : f[1];
                String ta = th[1] == null ? fa : th[1];
                for (String a : List.of(fa, ta)) {
                    if (!List.of("start", "stop", "promote", "demote").contains(a)) {
                        throw new CrmSyntaxException(line, "order " + id + ": action '" + a + "' is not start, stop, promote or demote");
                    }
                }
                orders.add(new Order(id, f[0], fa, th[0], ta, kind, symmetrical));
            }
        }

        void ticket(int line, List<String> t) {
            String id = need(line, t, 1, "rsc_ticket id");
            define(line, id, "rsc_ticket");
            String tk = need(line, t, 2, "rsc_ticket " + id + ": TICKET:");
            if (!tk.endsWith(":")) throw new CrmSyntaxException(line, "rsc_ticket " + id + ": expected 'TICKET:', got '" + tk + "'");
            String loss = "stop";
            List<String[]> rscs = new ArrayList<>();
            for (int i = 3; i < t.size(); i++) {
                if (t.get(i).startsWith("loss-policy=")) loss = t.get(i).substring(12);
                else rscs.add(withRole(line, t.get(i)));
            }
            for (String[] r : rscs) {
                tickets.add(new TicketConstraint(id, r[0], r[1] == null ? null : role(line, r[1]), tk.substring(0, tk.length() - 1), loss));
            }
        }

        /**
         * {@code fencing_topology STONITH_RESOURCES...} (every node) or {@code fencing_topology NODE: STONITH_RESOURCES... ...},
         * where STONITH_RESOURCES is {@code rsc[,rsc...]}: one level, whose devices must all succeed.
         */
        void fencingTopology(int line, List<String> t) {
            if (t.size() < 2) {
                throw new CrmSyntaxException(line, "fencing_topology lists no devices: give 'fencing_topology DEV1 DEV2' "
                        + "(every node) or 'fencing_topology NODE: DEV1,DEV2 DEV3 ...' (per node)");
            }
            boolean perNode = isFencingTarget(t.get(1));
            String target = perNode ? null : FencingLevel.ALL_NODES;
            if (!perNode) startTarget(line, target);
            int index = 0;
            for (int i = 1; i < t.size(); i++) {
                String tok = t.get(i);
                if (isFencingTarget(tok)) {
                    if (!perNode) {
                        throw new CrmSyntaxException(line, "fencing_topology: '" + tok + "' names a node after devices for every "
                                + "node; use either 'fencing_topology DEV...' (every node) or 'fencing_topology NODE: DEV... "
                                + "NODE: DEV...', each in a statement of its own");
                    }
                    if (index == 0 && target != null) {
                        throw new CrmSyntaxException(line, "fencing_topology: node " + target + " has no devices before '" + tok + "'");
                    }
                    target = tok.substring(0, tok.length() - 1);
                    if (target.startsWith("attr:") || target.contains("=")) {
                        throw new CrmSyntaxException(line, "fencing_topology: target '" + tok + "' selects nodes by attribute, "
                                + "which herd does not support; name the node ('NODE:') or leave the target out for every node");
                    }
                    if (!target.matches("[A-Za-z0-9_.@-]+")) {
                        throw new CrmSyntaxException(line, "fencing_topology: '" + target + "' is not a node name");
                    }
                    startTarget(line, target);
                    index = 0;
                    continue;
                }
                if (tok.contains("=") || tok.contains("%")) {
                    throw new CrmSyntaxException(line, "fencing_topology: '" + tok + "' is neither a node ('NODE:') nor devices "
                            + "('DEV' or 'DEV1,DEV2'); herd supports targets that name a node only");
                }
                List<String> devices = new ArrayList<>();
                for (String d : tok.split(",", -1)) {
                    if (!d.matches("[A-Za-z0-9_.#@-]+")) {
                        throw new CrmSyntaxException(line, "fencing_topology: '" + tok + "' is not a device id or a comma-separated "
                                + "list of them (DEV1,DEV2, no blanks)");
                    }
                    if (devices.contains(d)) throw new CrmSyntaxException(line, "fencing_topology: device " + d + " is listed twice in '" + tok + "'");
                    devices.add(d);
                }
                fencing.add(new FencingLevel(target, ++index, devices));
            }
            if (index == 0) throw new CrmSyntaxException(line, "fencing_topology: node " + target + " has no devices");
        }

        private static boolean isFencingTarget(String tok) {
            return tok.endsWith(":") && tok.length() > 1;
        }

        private void startTarget(int line, String target) {
            Integer prev = fencingTargetLine.putIfAbsent(target, line);
            if (prev != null) {
                String who = FencingLevel.ALL_NODES.equals(target) ? "the levels for every node are" : "node " + target + "'s levels are";
                throw new CrmSyntaxException(line, "fencing_topology: " + who + " already given on line " + prev
                        + "; list all of them in one place");
            }
        }

        private static String[] withRole(int line, String tok) {
            int c = tok.indexOf(':');
            if (c < 0) return new String[] {tok, null};
            return new String[] {tok.substring(0, c), tok.substring(c + 1)};
        }

        private static Role role(int line, String s) {
            try {
                return Role.parse(s);
            } catch (IllegalArgumentException e) {
                throw new CrmSyntaxException(line, e.getMessage());
            }
        }

        private static boolean isScore(String s) {
            try {
                Score.parse(s);
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        private static int score(int line, String s) {
            try {
                return Score.parse(s);
            } catch (IllegalArgumentException e) {
                throw new CrmSyntaxException(line, e.getMessage());
            }
        }

        Configuration build() {
            Map<String, Resource> built = new LinkedHashMap<>();
            java.util.Set<String> contained = new java.util.HashSet<>();
            for (Map.Entry<String, List<String>> g : groupMembers.entrySet()) {
                List<Primitive> members = new ArrayList<>();
                for (String m : g.getValue()) {
                    Primitive p = primitives.get(m);
                    int line = pendingContainers.get(g.getKey()).get(0);
                    if (p == null) throw new CrmSyntaxException(line, "group " + g.getKey() + ": member '" + m + "' is not a defined primitive");
                    if (!contained.add(m)) throw new CrmSyntaxException(line, "group " + g.getKey() + ": '" + m + "' is already inside another group or clone");
                    members.add(p);
                }
                built.put(g.getKey(), new Group(g.getKey(), containerMeta.get(g.getKey()), members));
            }
            for (Map.Entry<String, String[]> c : cloneDefs.entrySet()) {
                String child = c.getValue()[0];
                int line = pendingContainers.get(c.getKey()).get(0);
                Resource r = primitives.containsKey(child) ? primitives.get(child) : built.get(child);
                if (r == null) throw new CrmSyntaxException(line, "clone " + c.getKey() + ": '" + child + "' is not a defined primitive or group");
                if (!contained.add(child)) throw new CrmSyntaxException(line, "clone " + c.getKey() + ": '" + child + "' is already inside another group or clone");
                built.put(c.getKey(), new Clone(c.getKey(), containerMeta.get(c.getKey()), r, Boolean.parseBoolean(c.getValue()[1])));
            }
            List<Resource> resources = new ArrayList<>();
            for (String id : order) {
                if (contained.contains(id)) continue;
                Resource r = primitives.containsKey(id) ? primitives.get(id) : built.get(id);
                resources.add(r);
            }
            List<FencingLevel> topology = new ArrayList<>(fencing); // as printed: the all-nodes levels first
            topology.sort(java.util.Comparator.comparing(l -> !l.forAllNodes()));
            return new Configuration(props, rscDefaults, opDefaults, nodes, resources, locations, colocations, orders, tickets,
                    topology);
        }
    }

    // ------------------------------------------------------------------ printing

    /** Prints a configuration in crm shell syntax; {@code parse(format(c))} gives back {@code c}. */
    public static String format(Configuration c) {
        StringBuilder out = new StringBuilder();
        for (NodeConfig n : c.nodes()) {
            out.append("node ");
            if (!n.id().equals(n.uname())) out.append("$id=").append(quote(n.id())).append(' ');
            out.append(n.uname());
            if (n.type() != null && !n.type().isEmpty() && !n.type().equals("member")) out.append(':').append(n.type());
            section(out, "attributes", n.attributes());
            section(out, "utilization", n.utilization());
            out.append('\n');
        }
        List<Primitive> prims = new ArrayList<>();
        List<Resource> containers = new ArrayList<>();
        for (Resource r : c.resources()) collect(r, prims, containers);
        for (Primitive p : prims) {
            out.append("primitive ").append(p.id()).append(' ').append(p.agent());
            section(out, "params", p.params());
            section(out, "meta", p.meta());
            section(out, "utilization", p.utilization());
            for (Operation o : p.operations()) {
                out.append(" \\\n    op ").append(o.name());
                for (Map.Entry<String, String> e : o.attributes().entrySet()) {
                    out.append(' ').append(e.getKey()).append('=').append(quote(e.getValue()));
                }
            }
            out.append('\n');
        }
        for (Resource r : containers) {
            if (r instanceof Group g) {
                out.append("group ").append(g.id());
                for (Primitive m : g.members()) out.append(' ').append(m.id());
                section(out, "meta", g.meta());
            } else if (r instanceof Clone cl) {
                out.append(cl.promotable() ? "ms " : "clone ").append(cl.id()).append(' ').append(cl.child().id());
                section(out, "meta", cl.meta());
            }
            out.append('\n');
        }
        List<String> seen = new ArrayList<>();
        for (Location l : c.locations()) {
            out.append("location ").append(l.id()).append(' ')
                    .append(l.resource() != null ? l.resource() : "/" + l.resourcePattern() + "/");
            if (l.role() != null) out.append(" role=").append(l.role().text());
            if (l.resourceDiscovery() != null) out.append(" resource-discovery=").append(l.resourceDiscovery());
            if (l.node() != null) {
                out.append(' ').append(Score.format(l.score())).append(": ").append(l.node());
            }
            for (Rule r : l.rules()) {
                out.append(" \\\n    rule $id=").append(quote(r.id()));
                if (r.role() != null) out.append(" $role=").append(r.role().text());
                out.append(' ').append(r.score() != null ? Score.format(r.score()) : r.scoreAttribute()).append(':');
                boolean first = true;
                for (Expression e : r.expressions()) {
                    if (!first) out.append(' ').append(r.booleanOp());
                    first = false;
                    out.append(' ').append(expression(e));
                }
            }
            out.append('\n');
        }
        for (Colocation co : c.colocations()) {
            if (seen.contains("c:" + co.id())) continue;
            seen.add("c:" + co.id());
            List<Colocation> chain = c.colocations().stream().filter(x -> x.id().equals(co.id())).toList();
            out.append("colocation ").append(co.id()).append(' ').append(Score.format(co.score())).append(':');
            out.append(' ').append(withRole(chain.get(0).dependent(), chain.get(0).dependentRole()));
            for (Colocation x : chain) out.append(' ').append(withRole(x.primary(), x.primaryRole()));
            out.append('\n');
        }
        for (Order o : c.orders()) {
            if (seen.contains("o:" + o.id())) continue;
            seen.add("o:" + o.id());
            List<Order> chain = c.orders().stream().filter(x -> x.id().equals(o.id())).toList();
            out.append("order ").append(o.id()).append(' ').append(o.kind()).append(':');
            out.append(' ').append(o.first()).append(':').append(o.firstAction());
            for (Order x : chain) out.append(' ').append(x.then()).append(':').append(x.thenAction());
            boolean defaultSym = !o.kind().equals("Serialize");
            if (o.symmetrical() != defaultSym) out.append(" symmetrical=").append(o.symmetrical());
            out.append('\n');
        }
        for (TicketConstraint t : c.tickets()) {
            if (seen.contains("t:" + t.id())) continue;
            seen.add("t:" + t.id());
            out.append("rsc_ticket ").append(t.id()).append(' ').append(t.ticket()).append(':');
            for (TicketConstraint x : c.tickets()) if (x.id().equals(t.id())) out.append(' ').append(withRole(x.resource(), x.role()));
            out.append(" loss-policy=").append(t.lossPolicy()).append('\n');
        }
        fencingTopology(out, c.fencingTopology());
        if (!c.properties().isEmpty()) {
            out.append("property");
            pairsOut(out, c.properties());
            out.append('\n');
        }
        if (!c.resourceDefaults().isEmpty()) {
            out.append("rsc_defaults");
            pairsOut(out, c.resourceDefaults());
            out.append('\n');
        }
        if (!c.operationDefaults().isEmpty()) {
            out.append("op_defaults");
            pairsOut(out, c.operationDefaults());
            out.append('\n');
        }
        return out.toString();
    }

    /**
     * The levels for every node in one statement, then every node's levels in another, each target's
     * levels by index (crm syntax numbers them 1, 2, ... by position, so gaps in the indexes close).
     */
    private static void fencingTopology(StringBuilder out, List<FencingLevel> levels) {
        if (levels.isEmpty()) return;
        Map<String, List<FencingLevel>> byTarget = new LinkedHashMap<>();
        boolean all = levels.stream().anyMatch(FencingLevel::forAllNodes);
        if (all) byTarget.put(FencingLevel.ALL_NODES, new ArrayList<>());
        for (FencingLevel l : levels) byTarget.computeIfAbsent(l.target(), k -> new ArrayList<>()).add(l);
        for (List<FencingLevel> ls : byTarget.values()) ls.sort(java.util.Comparator.comparingInt(FencingLevel::index));
        if (all) {
            out.append("fencing_topology");
            for (FencingLevel l : byTarget.get(FencingLevel.ALL_NODES)) out.append(' ').append(String.join(",", l.devices()));
            out.append('\n');
        }
        if (byTarget.size() == (all ? 1 : 0)) return;
        out.append("fencing_topology");
        for (Map.Entry<String, List<FencingLevel>> e : byTarget.entrySet()) {
            if (e.getKey().equals(FencingLevel.ALL_NODES)) continue;
            out.append(" \\\n    ").append(e.getKey()).append(':');
            for (FencingLevel l : e.getValue()) out.append(' ').append(String.join(",", l.devices()));
        }
        out.append('\n');
    }

    private static void collect(Resource r, List<Primitive> prims, List<Resource> containers) {
        switch (r) {
            case Primitive p -> prims.add(p);
            case Group g -> {
                prims.addAll(g.members());
                containers.add(g);
            }
            case Clone c -> {
                collect(c.child(), prims, containers);
                containers.add(c);
            }
        }
    }

    private static String withRole(String rsc, Role role) {
        return role == null ? rsc : rsc + ":" + role.text();
    }

    private static String expression(Expression e) {
        return switch (e) {
            case Expression.Attribute a -> {
                if (a.operation().equals("defined") || a.operation().equals("not_defined")) yield a.operation() + " " + a.attribute();
                yield a.attribute() + " " + (a.type() == null ? "" : a.type() + ":") + a.operation() + " " + quote(a.value());
            }
            case Expression.Date d -> d.operation().equals("gt") ? "date gt " + quote(d.start()) : "date lt " + quote(d.end());
            case Rule r -> throw new IllegalArgumentException("rule " + r.id() + ": nested rules cannot be written in crm syntax");
        };
    }

    private static void section(StringBuilder out, String name, Map<String, String> values) {
        if (values.isEmpty()) return;
        out.append(" \\\n    ").append(name);
        pairsOut(out, values);
    }

    private static void pairsOut(StringBuilder out, Map<String, String> values) {
        for (Map.Entry<String, String> e : values.entrySet()) out.append(' ').append(e.getKey()).append('=').append(quote(e.getValue()));
    }

    private static String quote(String v) {
        if (v.isEmpty() || v.chars().anyMatch(ch -> Character.isWhitespace(ch) || ch == '\\' || ch == '#' || ch == '\'')) {
            if (v.contains("\"")) throw new IllegalArgumentException("value '" + v + "' holds both a quote and a blank");
            return "\"" + v + "\"";
        }
        if (v.contains("\"")) return "'" + v + "'";
        return v;
    }
}
