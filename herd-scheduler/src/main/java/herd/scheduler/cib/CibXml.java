package herd.scheduler.cib;

import herd.scheduler.model.ClusterState;
import herd.scheduler.model.Clone;
import herd.scheduler.model.Colocation;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Expression;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Group;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.NodeState;
import herd.scheduler.model.OpRecord;
import herd.scheduler.model.Operation;
import herd.scheduler.model.Order;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.scheduler.model.ResourceHistory;
import herd.scheduler.model.Role;
import herd.scheduler.model.Rule;
import herd.scheduler.model.Score;
import herd.scheduler.model.TicketConstraint;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

/**
 * Reads a Pacemaker CIB (XML text) into herd's model: the configuration section and, when present,
 * the status section. Pure: the caller reads the file.
 */
public final class CibXml {

    /** A parsed CIB: the cluster state plus the CIB's own execution date (seconds), if it records one. */
    public record Parsed(ClusterState state, Long executionDateSec) {}

    private final Map<String, Element> byId = new HashMap<>();
    private final Map<String, Element> templates = new HashMap<>();

    private CibXml() {}

    /** Parses a whole CIB (configuration and status). */
    public static Parsed parse(String xml) {
        return new CibXml().read(xml);
    }

    /** Imports only the configuration section of a CIB. */
    public static Configuration parseConfiguration(String xml) {
        return parse(xml).state().config();
    }

    private Parsed read(String xml) {
        Document doc = parseXml(xml);
        Element cib = doc.getDocumentElement();
        if (!"cib".equals(cib.getTagName())) {
            throw new CibException("the document element is <" + cib.getTagName() + ">, expected <cib>");
        }
        indexIds(cib);
        Element configuration = child(cib, "configuration");
        if (configuration == null) throw new CibException("<cib> has no <configuration> section");
        Configuration config = readConfiguration(configuration);
        Element status = child(cib, "status");
        List<NodeState> states = status == null ? List.of() : readNodeStates(status);
        Map<String, Boolean> tickets = new LinkedHashMap<>();
        Set<String> standbyTickets = new LinkedHashSet<>();
        if (status != null) {
            Element ts = child(status, "tickets");
            if (ts != null) {
                for (Element t : children(ts, "ticket_state")) {
                    tickets.put(t.getAttribute("id"), isTrue(t.getAttribute("granted")));
                    if (isTrue(t.getAttribute("standby"))) standbyTickets.add(t.getAttribute("id"));
                }
            }
        }
        boolean quorum = isTrue(cib.getAttribute("have-quorum"));
        Long executionDate = null;
        if (!cib.getAttribute("execution-date").isEmpty()) {
            executionDate = Long.parseLong(cib.getAttribute("execution-date").trim());
        }
        return new Parsed(new ClusterState(config, states, quorum, tickets, standbyTickets), executionDate);
    }

    private static Document parseXml(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            return b.parse(new InputSource(new StringReader(xml)));
        } catch (org.xml.sax.SAXParseException e) {
            throw new CibException("not well-formed XML at line " + e.getLineNumber() + ": " + e.getMessage());
        } catch (Exception e) {
            throw new CibException("cannot parse the CIB: " + e.getMessage());
        }
    }

    private void indexIds(Element e) {
        String id = e.getAttribute("id");
        if (!id.isEmpty() && !e.hasAttribute("id-ref")) byId.putIfAbsent(id, e);
        for (Element c : children(e, null)) indexIds(c);
    }

    /** Follows an id-ref to the element it names. */
    private Element deref(Element e) {
        String ref = e.getAttribute("id-ref");
        if (ref.isEmpty()) return e;
        Element target = byId.get(ref);
        if (target == null) throw new CibException("<" + e.getTagName() + " id-ref=\"" + ref + "\"> names no element");
        return target;
    }

    // ---------------------------------------------------------------- configuration

    private Configuration readConfiguration(Element configuration) {
        Map<String, String> props = new LinkedHashMap<>();
        Element crmConfig = child(configuration, "crm_config");
        if (crmConfig != null) for (Element set : children(crmConfig, "cluster_property_set")) nvpairs(set, props);
        Map<String, String> rscDefaults = new LinkedHashMap<>();
        Element rd = child(configuration, "rsc_defaults");
        if (rd != null) for (Element set : children(rd, "meta_attributes")) nvpairs(set, rscDefaults);
        Map<String, String> opDefaults = new LinkedHashMap<>();
        Element od = child(configuration, "op_defaults");
        if (od != null) for (Element set : children(od, "meta_attributes")) nvpairs(set, opDefaults);

        List<NodeConfig> nodes = new ArrayList<>();
        Element nodesEl = child(configuration, "nodes");
        if (nodesEl != null) {
            for (Element n : children(nodesEl, "node")) {
                Map<String, String> attrs = new LinkedHashMap<>();
                for (Element set : children(n, "instance_attributes")) nvpairs(set, attrs);
                Map<String, String> util = new LinkedHashMap<>();
                for (Element set : children(n, "utilization")) nvpairs(set, util);
                String uname = n.getAttribute("uname").isEmpty() ? n.getAttribute("id") : n.getAttribute("uname");
                Integer score = n.getAttribute("score").isEmpty() ? null : Score.parse(n.getAttribute("score"));
                nodes.add(new NodeConfig(n.getAttribute("id"), uname, n.getAttribute("type"), attrs, util, score));
            }
        }

        List<Resource> resources = new ArrayList<>();
        Element rs = child(configuration, "resources");
        if (rs != null) {
            for (Element t : children(rs, "template")) templates.put(t.getAttribute("id"), t);
            for (Element r : children(rs, null)) {
                Resource res = readResource(r);
                if (res != null) resources.add(res);
            }
        }
        Map<String, List<String>> tags = new HashMap<>();
        Element tagsEl = child(configuration, "tags");
        if (tagsEl != null) {
            for (Element tag : children(tagsEl, "tag")) {
                List<String> refs = new ArrayList<>();
                for (Element ref : children(tag, "obj_ref")) refs.add(ref.getAttribute("id"));
                tags.put(tag.getAttribute("id"), refs);
            }
        }
        for (Element t : templates.values()) tags.putIfAbsent(t.getAttribute("id"), templateUsers(resources, t.getAttribute("id")));

        List<Location> locations = new ArrayList<>();
        List<Colocation> colocations = new ArrayList<>();
        List<Order> orders = new ArrayList<>();
        List<TicketConstraint> tickets = new ArrayList<>();
        Element cons = child(configuration, "constraints");
        if (cons != null) {
            for (Element c : children(cons, null)) {
                switch (c.getTagName()) {
                    case "rsc_location" -> readLocation(c, tags, locations);
                    case "rsc_colocation" -> readColocation(c, tags, colocations);
                    case "rsc_order" -> readOrder(c, tags, orders);
                    case "rsc_ticket" -> readTicket(c, tags, tickets);
                    default -> { }
                }
            }
        }
        List<FencingLevel> fencing = new ArrayList<>();
        Element topology = child(configuration, "fencing-topology");
        if (topology != null) for (Element level : children(topology, "fencing-level")) fencing.add(readFencingLevel(level));
        return new Configuration(props, rscDefaults, opDefaults, nodes, resources, locations, colocations, orders,
                tickets, fencing);
    }

    /**
     * {@code <fencing-level id=".." target="node1" index="1" devices="dev1,dev2"/>}. A target-pattern
     * of ".*" (every node) is read as the levels for all nodes; other patterns and target-attribute are
     * refused. Whether the devices and the node exist is the Validator's business.
     */
    private static FencingLevel readFencingLevel(Element level) {
        String id = level.getAttribute("id");
        String what = "fencing-level" + (id.isEmpty() ? "" : " " + id);
        String target = level.getAttribute("target").trim();
        String pattern = level.getAttribute("target-pattern").trim();
        if (target.equals(FencingLevel.ALL_NODES)) {
            throw new CibException(what + ": target \"*\" is not a node name; for every node write target-pattern=\".*\"");
        }
        if (level.hasAttribute("target-attribute") || level.hasAttribute("target-value")) {
            throw new CibException(what + ": target-attribute is not supported; herd supports target=\"NODE\" and "
                    + "target-pattern=\".*\" (every node): write one level per node instead");
        }
        if (!pattern.isEmpty()) {
            if (!pattern.equals(".*") && !pattern.equals("^.*$")) {
                throw new CibException(what + ": target-pattern \"" + pattern + "\" is not supported; herd supports "
                        + "target=\"NODE\" and target-pattern=\".*\" (every node): write one level per node instead");
            }
            if (!target.isEmpty()) throw new CibException(what + ": has both target and target-pattern; give one");
            target = FencingLevel.ALL_NODES;
        }
        if (target.isEmpty()) throw new CibException(what + ": has no target (target=\"NODE\")");
        int index;
        try {
            index = Integer.parseInt(level.getAttribute("index").trim());
        } catch (NumberFormatException e) {
            throw new CibException(what + ": index \"" + level.getAttribute("index") + "\" is not a number (1, 2, ...)");
        }
        List<String> devices = new ArrayList<>();
        for (String d : level.getAttribute("devices").split(",")) {
            if (!d.isBlank()) devices.add(d.trim());
        }
        return new FencingLevel(target, index, devices);
    }

    private final Map<String, String> primitiveTemplate = new HashMap<>();

    private List<String> templateUsers(List<Resource> resources, String template) {
        List<String> ids = new ArrayList<>();
        primitiveTemplate.forEach((rsc, t) -> {
            if (t.equals(template)) ids.add(rsc);
        });
        ids.sort(null);
        return ids;
    }

    private Resource readResource(Element r) {
        return switch (r.getTagName()) {
            case "primitive" -> readPrimitive(r);
            case "group" -> readGroup(r);
            case "clone", "master" -> readClone(r);
            default -> null; // templates are merged into primitives; bundles are not supported
        };
    }

    private Primitive readPrimitive(Element p) {
        String id = p.getAttribute("id");
        Element template = null;
        if (!p.getAttribute("template").isEmpty()) {
            template = templates.get(p.getAttribute("template"));
            if (template == null) {
                throw new CibException("primitive " + id + " uses template " + p.getAttribute("template")
                        + ", which is not defined");
            }
            primitiveTemplate.put(id, p.getAttribute("template"));
        }
        Element base = template == null ? p : template;
        String cls = attrOr(p, base, "class");
        String type = attrOr(p, base, "type");
        String provider = attrOr(p, base, "provider");
        if (cls.isEmpty() || type.isEmpty()) {
            throw new CibException("primitive " + id + " needs both class and type attributes");
        }
        Map<String, String> params = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, String> util = new LinkedHashMap<>();
        List<Operation> ops = new ArrayList<>();
        for (Element src : template == null ? List.of(p) : List.of(template, p)) {
            for (Element set : children(src, "instance_attributes")) nvpairs(set, params);
            for (Element set : children(src, "meta_attributes")) nvpairs(set, meta);
            for (Element set : children(src, "utilization")) nvpairs(set, util);
            Element opsEl = child(src, "operations");
            if (opsEl != null) {
                for (Element op : children(opsEl, "op")) {
                    Operation o = readOp(deref(op));
                    ops.removeIf(x -> x.name().equals(o.name()) && x.intervalMs() == o.intervalMs());
                    ops.add(o);
                }
            }
        }
        return new Primitive(id, cls, provider.isEmpty() ? null : provider, type, params, meta, ops, util);
    }

    private static String attrOr(Element p, Element base, String name) {
        return p.getAttribute(name).isEmpty() ? base.getAttribute(name) : p.getAttribute(name);
    }

    private Operation readOp(Element op) {
        Map<String, String> attrs = new LinkedHashMap<>();
        for (Element set : children(op, "meta_attributes")) nvpairs(set, attrs);
        for (Element set : children(op, "instance_attributes")) nvpairs(set, attrs);
        org.w3c.dom.NamedNodeMap nm = op.getAttributes();
        for (int i = 0; i < nm.getLength(); i++) attrs.putIfAbsent(nm.item(i).getNodeName(), nm.item(i).getNodeValue());
        String name = op.getAttribute("name");
        long interval = Durations.parseMillis(op.getAttribute("interval").isEmpty() ? "0" : op.getAttribute("interval"));
        Role role = Role.parse(op.getAttribute("role"));
        String onFail = attrs.get("on-fail");
        boolean enabled = !"false".equalsIgnoreCase(attrs.getOrDefault("enabled", "true"));
        return new Operation(op.getAttribute("id"), name, interval, role, onFail, enabled, attrs);
    }

    private Group readGroup(Element g) {
        Map<String, String> meta = new LinkedHashMap<>();
        for (Element set : children(g, "meta_attributes")) nvpairs(set, meta);
        List<Primitive> members = new ArrayList<>();
        for (Element p : children(g, "primitive")) members.add(readPrimitive(p));
        return new Group(g.getAttribute("id"), meta, members);
    }

    private Clone readClone(Element c) {
        Map<String, String> meta = new LinkedHashMap<>();
        for (Element set : children(c, "meta_attributes")) nvpairs(set, meta);
        for (Element set : children(c, "instance_attributes")) nvpairs(set, meta);
        Resource child = null;
        for (Element e : children(c, null)) {
            if (e.getTagName().equals("primitive") || e.getTagName().equals("group")) {
                child = readResource(e);
                break;
            }
        }
        if (child == null) throw new CibException("clone " + c.getAttribute("id") + " has no primitive or group inside");
        boolean promotable = c.getTagName().equals("master") || isTrue(meta.get("promotable"));
        return new Clone(c.getAttribute("id"), meta, child, promotable);
    }

    // ---------------------------------------------------------------- constraints

    private static List<String> expand(String id, Map<String, List<String>> tags) {
        List<String> t = tags.get(id);
        return t == null ? List.of(id) : t;
    }

    private void readLocation(Element c, Map<String, List<String>> tags, List<Location> out) {
        String id = c.getAttribute("id");
        Role role = Role.parse(c.getAttribute("role"));
        List<Rule> rules = new ArrayList<>();
        for (Element r : children(c, "rule")) rules.add(readRule(deref(r)));
        Integer score = c.getAttribute("score").isEmpty() ? null : Score.parse(c.getAttribute("score"));
        String node = c.getAttribute("node").isEmpty() ? null : c.getAttribute("node");
        String discovery = c.getAttribute("resource-discovery").isEmpty() ? null : c.getAttribute("resource-discovery");
        List<String> rscs = new ArrayList<>();
        for (Element set : children(c, "resource_set")) {
            Role setRole = Role.parse(set.getAttribute("role"));
            for (Element ref : children(set, "resource_ref")) {
                for (String r : expand(ref.getAttribute("id"), tags)) {
                    out.add(new Location(id, r, null, node, score, setRole != null ? setRole : role, rules, discovery));
                }
            }
        }
        if (!c.getAttribute("rsc-pattern").isEmpty()) {
            out.add(new Location(id, null, c.getAttribute("rsc-pattern"), node, score, role, rules, discovery));
        } else if (!c.getAttribute("rsc").isEmpty()) {
            for (String r : expand(c.getAttribute("rsc"), tags)) rscs.add(r);
        }
        for (String r : rscs) out.add(new Location(id, r, null, node, score, role, rules, discovery));
    }

    private Rule readRule(Element r) {
        Integer score = r.getAttribute("score").isEmpty() ? null : Score.parse(r.getAttribute("score"));
        String scoreAttr = r.getAttribute("score-attribute").isEmpty() ? null : r.getAttribute("score-attribute");
        List<Expression> exprs = new ArrayList<>();
        for (Element e0 : children(r, null)) {
            Element e = deref(e0);
            switch (e.getTagName()) {
                case "expression" -> exprs.add(new Expression.Attribute(e.getAttribute("id"), e.getAttribute("attribute"),
                        e.getAttribute("operation"), e.hasAttribute("value") ? e.getAttribute("value") : null,
                        e.getAttribute("type").isEmpty() ? null : e.getAttribute("type"),
                        e.getAttribute("value-source").isEmpty() ? null : e.getAttribute("value-source")));
                case "date_expression" -> {
                    Element spec = child(e, "date_spec");
                    Element dur = child(e, "duration");
                    exprs.add(new Expression.Date(e.getAttribute("id"), e.getAttribute("operation"),
                            blankToNull(e.getAttribute("start")), blankToNull(e.getAttribute("end")),
                            dur == null ? null : attributes(dur), spec == null ? null : attributes(spec)));
                }
                case "rule" -> exprs.add(readRule(e));
                default -> { } // op_expression / rsc_expression apply to defaults, not to nodes
            }
        }
        return new Rule(r.getAttribute("id"), score, scoreAttr, r.getAttribute("boolean-op"),
                Role.parse(r.getAttribute("role")), exprs);
    }

    private void readColocation(Element c, Map<String, List<String>> tags, List<Colocation> out) {
        String id = c.getAttribute("id");
        int score = Score.parse(c.getAttribute("score").isEmpty() ? "0" : c.getAttribute("score"));
        boolean influence = !"false".equalsIgnoreCase(c.getAttribute("influence"));
        List<Element> sets = children(c, "resource_set");
        if (sets.isEmpty()) {
            for (String dep : expand(c.getAttribute("rsc"), tags)) {
                for (String pri : expand(c.getAttribute("with-rsc"), tags)) {
                    out.add(new Colocation(id, dep, pri, score, Role.parse(c.getAttribute("rsc-role")),
                            Role.parse(c.getAttribute("with-rsc-role")), influence));
                }
            }
            return;
        }
        List<Element> previous = null;
        for (Element set0 : sets) {
            Element set = deref(set0);
            List<String> members = setMembers(set, tags);
            Role role = Role.parse(set.getAttribute("role"));
            int setScore = set.getAttribute("score").isEmpty() ? score : Score.parse(set.getAttribute("score"));
            if (!"false".equalsIgnoreCase(set.getAttribute("sequential"))) {
                for (int i = 1; i < members.size(); i++) {
                    out.add(new Colocation(id, members.get(i), members.get(i - 1), setScore, role, role, influence));
                }
            }
            if (previous != null) {
                Element prevSet = previous.get(0);
                List<String> prevMembers = setMembers(prevSet, tags);
                Role prevRole = Role.parse(prevSet.getAttribute("role"));
                boolean prevSeq = !"false".equalsIgnoreCase(prevSet.getAttribute("sequential"));
                boolean curSeq = !"false".equalsIgnoreCase(set.getAttribute("sequential"));
                List<String> deps = prevSeq && !prevMembers.isEmpty() ? List.of(prevMembers.get(0)) : prevMembers;
                List<String> pris = curSeq && !members.isEmpty() ? List.of(members.get(members.size() - 1)) : members;
                for (String d : deps) for (String p : pris) out.add(new Colocation(id, d, p, score, prevRole, role, influence));
            }
            previous = List.of(set);
        }
    }

    private List<String> setMembers(Element set, Map<String, List<String>> tags) {
        List<String> members = new ArrayList<>();
        for (Element ref : children(set, "resource_ref")) members.addAll(expand(ref.getAttribute("id"), tags));
        return members;
    }

    private void readOrder(Element c, Map<String, List<String>> tags, List<Order> out) {
        String id = c.getAttribute("id");
        String kind = c.getAttribute("kind");
        if (kind.isEmpty()) {
            String score = c.getAttribute("score");
            kind = score.isEmpty() || Score.parse(score) != 0 ? "Mandatory" : "Optional";
        }
        boolean symmetrical = !"false".equalsIgnoreCase(c.getAttribute("symmetrical"))
                && !"Serialize".equalsIgnoreCase(kind);
        List<Element> sets = children(c, "resource_set");
        if (sets.isEmpty()) {
            String fa = c.getAttribute("first-action").isEmpty() ? "start" : c.getAttribute("first-action");
            String ta = c.getAttribute("then-action").isEmpty() ? fa : c.getAttribute("then-action");
            for (String f : expand(c.getAttribute("first"), tags)) {
                for (String t : expand(c.getAttribute("then"), tags)) out.add(new Order(id, f, fa, t, ta, kind, symmetrical));
            }
            return;
        }
        List<String> prevTail = null;
        String prevAction = null;
        for (Element set0 : sets) {
            Element set = deref(set0);
            List<String> members = setMembers(set, tags);
            String action = set.getAttribute("action").isEmpty() ? "start" : set.getAttribute("action");
            boolean seq = !"false".equalsIgnoreCase(set.getAttribute("sequential"));
            if (seq) {
                for (int i = 1; i < members.size(); i++) {
                    out.add(new Order(id, members.get(i - 1), action, members.get(i), action, kind, symmetrical));
                }
            }
            List<String> head = seq && !members.isEmpty() ? List.of(members.get(0)) : members;
            if (prevTail != null) {
                for (String f : prevTail) for (String t : head) out.add(new Order(id, f, prevAction, t, action, kind, symmetrical));
            }
            prevTail = seq && !members.isEmpty() ? List.of(members.get(members.size() - 1)) : members;
            prevAction = action;
        }
    }

    private void readTicket(Element c, Map<String, List<String>> tags, List<TicketConstraint> out) {
        String id = c.getAttribute("id");
        String ticket = c.getAttribute("ticket");
        String loss = c.getAttribute("loss-policy").isEmpty() ? "stop" : c.getAttribute("loss-policy");
        if (!c.getAttribute("rsc").isEmpty()) {
            for (String r : expand(c.getAttribute("rsc"), tags)) {
                out.add(new TicketConstraint(id, r, Role.parse(c.getAttribute("rsc-role")), ticket, loss));
            }
        }
        for (Element set0 : children(c, "resource_set")) {
            Element set = deref(set0);
            for (String r : setMembers(set, tags)) {
                out.add(new TicketConstraint(id, r, Role.parse(set.getAttribute("role")), ticket, loss));
            }
        }
    }

    // ---------------------------------------------------------------- status

    private List<NodeState> readNodeStates(Element status) {
        List<NodeState> out = new ArrayList<>();
        for (Element ns : children(status, "node_state")) {
            Map<String, String> attrs = new LinkedHashMap<>();
            Element ta = child(ns, "transient_attributes");
            if (ta != null) for (Element set : children(ta, "instance_attributes")) nvpairs(set, attrs);
            if (!ns.getAttribute("shutdown").isEmpty() && !"0".equals(ns.getAttribute("shutdown"))) {
                attrs.putIfAbsent("shutdown", ns.getAttribute("shutdown"));
            }
            List<ResourceHistory> history = new ArrayList<>();
            Element lrm = child(ns, "lrm");
            Element lrs = lrm == null ? null : child(lrm, "lrm_resources");
            if (lrs != null) {
                for (Element lr : children(lrs, "lrm_resource")) {
                    List<OpRecord> ops = new ArrayList<>();
                    for (Element op : children(lr, "lrm_rsc_op")) ops.add(readOpRecord(op));
                    history.add(new ResourceHistory(lr.getAttribute("id"), lr.getAttribute("class"),
                            blankToNull(lr.getAttribute("provider")), lr.getAttribute("type"), ops));
                }
            }
            String inCcm = ns.getAttribute("in_ccm");
            boolean inCluster = isTrue(inCcm) || inCcm.matches("[1-9][0-9]*");
            String crmd = ns.getAttribute("crmd");
            String peer = crmd.matches("[1-9][0-9]*") || "online".equals(crmd) ? "online" : "offline";
            if ("true".equals(ns.getAttribute("remote_node"))) {
                peer = inCluster ? "online" : "offline";
            }
            String uname = ns.getAttribute("uname").isEmpty() ? ns.getAttribute("id") : ns.getAttribute("uname");
            boolean terminate = attrs.containsKey("terminate") && isTrue(attrs.get("terminate"));
            out.add(new NodeState(ns.getAttribute("id"), uname, inCluster, peer,
                    ns.getAttribute("join").isEmpty() ? ("true".equals(ns.getAttribute("remote_node")) ? "member" : "down") : ns.getAttribute("join"),
                    ns.getAttribute("expected"), terminate, attrs, history));
        }
        return out;
    }

    private static OpRecord readOpRecord(Element op) {
        int targetRc = -1;
        String key = op.getAttribute("transition-key");
        String[] parts = key.split(":");
        if (parts.length >= 3) {
            try {
                targetRc = Integer.parseInt(parts[2]);
            } catch (NumberFormatException ignored) {
                targetRc = -1;
            }
        }
        String operation = op.getAttribute("operation");
        return new OpRecord(op.getAttribute("id"), operation,
                longOr(op.getAttribute("interval"), 0), // the status section records milliseconds
                intOr(op.getAttribute("rc-code"), 0), intOr(op.getAttribute("op-status"), 0),
                intOr(op.getAttribute("call-id"), 0), targetRc, longOr(op.getAttribute("last-rc-change"), 0),
                longOr(op.getAttribute("last-run"), 0), blankToNull(op.getAttribute("op-digest")),
                blankToNull(op.getAttribute("migrate_source")), blankToNull(op.getAttribute("migrate_target")),
                blankToNull(op.getAttribute("exit-reason")));
    }

    // ---------------------------------------------------------------- helpers

    private void nvpairs(Element set0, Map<String, String> into) {
        Element set = deref(set0);
        // A set with a rule applies only when the rule holds (e.g. at some dates); herd reads the
        // unconditional sets and skips conditional ones rather than guess.
        if (child(set, "rule") != null) return;
        for (Element nv0 : children(set, "nvpair")) {
            Element nv = deref(nv0);
            into.put(nv.getAttribute("name"), nv.getAttribute("value"));
        }
    }

    private static Map<String, String> attributes(Element e) {
        Map<String, String> m = new LinkedHashMap<>();
        org.w3c.dom.NamedNodeMap nm = e.getAttributes();
        for (int i = 0; i < nm.getLength(); i++) {
            if (!nm.item(i).getNodeName().equals("id")) m.put(nm.item(i).getNodeName(), nm.item(i).getNodeValue());
        }
        return m;
    }

    static Element child(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) return e;
        }
        return null;
    }

    static List<Element> children(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && (tag == null || e.getTagName().equals(tag))) out.add(e);
        }
        return out;
    }

    private static boolean isTrue(String s) {
        if (s == null) return false;
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on", "y", "1" -> true;
            default -> false;
        };
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static int intOr(String s, int fallback) {
        try {
            return s.isEmpty() ? fallback : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static long longOr(String s, long fallback) {
        try {
            return s.isEmpty() ? fallback : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
