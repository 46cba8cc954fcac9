package herd.scheduler.crm;

import herd.scheduler.model.Clone;
import herd.scheduler.model.Colocation;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Expression;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Group;
import herd.scheduler.model.Location;
import herd.scheduler.model.NodeConfig;
import herd.scheduler.model.Order;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import herd.scheduler.model.Rule;
import herd.scheduler.model.Score;
import herd.scheduler.model.TicketConstraint;
import herd.scheduler.model.Validator;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's edits of the resource configuration, as crm_resource, crm_attribute and the crm
 * shell make them: create, update and delete resources, start and stop them (target-role), move and
 * ban them (location constraints named {@code cli-prefer-RSC} and {@code cli-ban-RSC-on-NODE}, with an
 * optional lifetime written as a date rule), set permanent node attributes, add and remove
 * constraints. Pure: every edit takes a configuration and returns the new one, validated, or throws
 * an {@link IllegalArgumentException} that says what is wrong and how to fix it. Nothing reads a
 * clock: the time for lifetimes comes in as an argument.
 */
public final class ConfigurationEdits {
    private ConfigurationEdits() {}

    /** Pacemaker's prefix of the constraint that {@code crm_resource --move} adds. */
    public static final String PREFER_PREFIX = "cli-prefer-";
    /** Pacemaker's prefix of the constraint that {@code crm_resource --ban} adds. */
    public static final String BAN_PREFIX = "cli-ban-";
    /** The longest lifetime of a move or ban: beyond it an operator means "permanent" and should say so. */
    public static final Duration LIFETIME_MAX = Duration.ofDays(3650);

    private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,9})\\s*(s|m|h|d|w)");
    private static final Set<String> TARGET_ROLES = Set.of("Started", "Stopped");

    /** Changes of one resource's attributes: values to set and names to delete. */
    public record ResourceChanges(Map<String, String> setParams, Map<String, String> setMeta, List<String> deleteParams,
                                  List<String> deleteMeta) {
        public ResourceChanges {
            setParams = Map.copyOf(setParams);
            setMeta = Map.copyOf(setMeta);
            deleteParams = List.copyOf(deleteParams);
            deleteMeta = List.copyOf(deleteMeta);
        }

        public boolean isEmpty() {
            return setParams.isEmpty() && setMeta.isEmpty() && deleteParams.isEmpty() && deleteMeta.isEmpty();
        }
    }

    /**
     * One constraint as {@code herd constraint list} shows it.
     *
     * @param kind      location, colocation, order or rsc_ticket
     * @param resources the resources it names, in order
     * @param crm       its statement in crm shell syntax (one line, continuations joined)
     */
    public record ConstraintLine(String id, String kind, List<String> resources, String crm) {}

    /**
     * A constraint that move or ban added.
     *
     * @param kind                 "prefer" (move) or "ban"
     * @param expires              the end of its lifetime as ISO-8601 text, or null when it is permanent
     * @param expiresEpochSeconds  the same as seconds since the epoch, or null
     */
    public record OperatorConstraint(String id, String kind, String resource, String node, int score, String expires,
                                     Long expiresEpochSeconds) {
        public boolean expiredAt(long nowSec) {
            return expiresEpochSeconds != null && nowSec >= expiresEpochSeconds;
        }
    }

    // ------------------------------------------------------------------ text in, text out

    /** Parses stored crm text, applies an edit and prints the result in canonical form. */
    public static String apply(String crmText, UnaryOperator<Configuration> edit) {
        return CrmShell.format(edit.apply(CrmShell.parse(crmText)));
    }

    // ------------------------------------------------------------------ resources

    /**
     * Adds the resources that {@code crmText} defines (primitive, group, clone, ms statements; a group
     * or clone may take in resources that exist already). Errors name the line of {@code crmText}.
     */
    public static Configuration createResources(Configuration config, String crmText) {
        Configuration result = parseAdding(config, crmText, "nothing to create: give a statement such as "
            + "'primitive web ocf:heartbeat:nginx op monitor interval=10s'");
        if (!sameConstraints(config, result) || !sameSettings(config, result)) {
            throw new IllegalArgumentException("'resource create' takes primitive, group, clone and ms statements only: "
                + "add constraints with 'herd constraint add', nodes' attributes with 'herd node attribute'");
        }
        if (resourceIds(result).size() == resourceIds(config).size()) {
            throw new IllegalArgumentException("the text defines no new resource: give a primitive, group, clone or ms statement");
        }
        return valid(result);
    }

    /** Sets and deletes instance attributes (params, primitives only) and meta attributes of a resource. */
    public static Configuration updateResource(Configuration config, String id, ResourceChanges changes) {
        Resource resource = requireResource(config, id);
        if (changes.isEmpty()) {
            throw new IllegalArgumentException("nothing to change: give --param NAME=VALUE, --meta NAME=VALUE, "
                + "--delete-param NAME or --delete-meta NAME");
        }
        boolean touchesParams = !changes.setParams().isEmpty() || !changes.deleteParams().isEmpty();
        if (touchesParams && !(resource instanceof Primitive)) {
            throw new IllegalArgumentException(kind(resource) + " " + id + " has no parameters of its own: set them on "
                + "its primitives (" + String.join(", ", primitiveIds(resource)) + ")");
        }
        for (String name : changes.setParams().keySet()) requireAttributeName(name, "parameter");
        for (String name : changes.setMeta().keySet()) requireAttributeName(name, "meta attribute");
        requirePresent(changes.deleteParams(), resource instanceof Primitive p ? p.params() : Map.of(), id, "parameter");
        requirePresent(changes.deleteMeta(), resource.meta(), id, "meta attribute");
        Resource updated = withMeta(resource, changed(resource.meta(), changes.setMeta(), changes.deleteMeta()));
        if (updated instanceof Primitive p) {
            updated = withParams(p, changed(p.params(), changes.setParams(), changes.deleteParams()));
        }
        Resource replacement = updated;
        return valid(replaceResource(config, id, r -> replacement));
    }

    /**
     * Deletes a resource (a group or clone with what it holds; the last member of a group takes the
     * group with it). Refused while constraints name it, unless {@code force}, which removes them too.
     */
    public static Configuration deleteResource(Configuration config, String id, boolean force) {
        Resource resource = requireResource(config, id);
        Optional<Resource> parent = parentOf(config, id);
        if (parent.isPresent() && parent.get() instanceof Clone clone) {
            throw new IllegalArgumentException(id + " is the resource that clone " + clone.id() + " copies: delete "
                + clone.id() + " instead, which deletes both");
        }
        String deleted = parent.isPresent() && ((Group) parent.get()).members().size() == 1 ? parent.get().id() : id;
        Set<String> goneIds = idsWithin(deleted.equals(id) ? resource : parent.get());
        List<String> references = constraintsNaming(config, goneIds);
        if (!references.isEmpty() && !force) {
            throw new IllegalArgumentException(id + " is named by the constraint" + (references.size() == 1 ? " " : "s ")
                + String.join(", ", references) + ": remove " + (references.size() == 1 ? "it" : "them")
                + " first ('herd constraint remove ID'), or delete with --force, which removes "
                + (references.size() == 1 ? "it" : "them") + " too");
        }
        List<Resource> resources = new ArrayList<>();
        for (Resource top : config.resources()) {
            if (top.id().equals(deleted)) continue;
            if (top instanceof Group g && !deleted.equals(g.id()) && g.members().stream().anyMatch(m -> m.id().equals(id))) {
                resources.add(new Group(g.id(), g.meta(), g.members().stream().filter(m -> !m.id().equals(id)).toList()));
            } else {
                resources.add(top);
            }
        }
        List<String> levels = config.fencingTopology().stream()
            .filter(l -> l.devices().stream().anyMatch(goneIds::contains)).map(FencingLevel::describe).toList();
        if (!levels.isEmpty() && !force) {
            throw new IllegalArgumentException(id + " is a device of the fencing topology (" + String.join(", ", levels)
                + "): take it out of fencing_topology first, or delete with --force, which takes it out of those levels "
                + "(a level left without devices is dropped)");
        }
        Configuration withoutResource = withResources(config, resources);
        withoutResource = withoutResource.withFencingTopology(withoutDevices(config.fencingTopology(), goneIds));
        return valid(withoutConstraints(withoutResource, Set.copyOf(references)));
    }

    /**
     * Sets meta target-role (Started or Stopped), as {@code crm_resource --start/--stop}. A target-role
     * set on resources inside it is removed, so the role given here is the one that counts.
     */
    public static Configuration setTargetRole(Configuration config, String id, String role) {
        requireResource(config, id);
        if (!TARGET_ROLES.contains(role)) {
            throw new IllegalArgumentException("target-role '" + role + "' is not Started or Stopped");
        }
        return valid(replaceResource(config, id, r -> {
            Map<String, String> meta = new LinkedHashMap<>(r.meta());
            meta.put("target-role", role);
            return withoutInnerTargetRole(withMeta(r, meta));
        }));
    }

    // ------------------------------------------------------------------ move, ban, clear

    /**
     * Makes a resource prefer a node with score INFINITY ({@code cli-prefer-RSC}, replacing an earlier
     * one), and drops a ban of it from that node. With a lifetime, the preference ends by itself at
     * {@code nowSec} + lifetime (a {@code date lt} rule the scheduler evaluates).
     *
     * @param clusterNodes the names of the cluster's nodes
     * @param lifetime     null for a permanent move
     */
    public static Configuration move(Configuration config, Collection<String> clusterNodes, String id, String node,
                                     Duration lifetime, long nowSec) {
        requireResource(config, id);
        requireNode(config, clusterNodes, node);
        String preferId = PREFER_PREFIX + id;
        Configuration cleared = withoutConstraints(config, Set.of(preferId, banId(id, node)));
        return valid(parseAdding(cleared, operatorLocation(preferId, id, node, Score.INFINITY, lifetime, nowSec), ""));
    }

    /**
     * Keeps a resource off a node with score -INFINITY ({@code cli-ban-RSC-on-NODE}, replacing an earlier
     * ban there); a move of it to that very node is dropped. With a lifetime, the ban ends by itself.
     */
    public static Configuration ban(Configuration config, Collection<String> clusterNodes, String id, String node,
                                    Duration lifetime, long nowSec) {
        requireResource(config, id);
        requireNode(config, clusterNodes, node);
        Set<String> replaced = new LinkedHashSet<>(Set.of(banId(id, node)));
        for (OperatorConstraint c : operatorConstraints(config)) {
            if (c.kind().equals("prefer") && c.resource().equals(id) && node.equals(c.node())) replaced.add(c.id());
        }
        Configuration cleared = withoutConstraints(config, replaced);
        return valid(parseAdding(cleared, operatorLocation(banId(id, node), id, node, -Score.INFINITY, lifetime, nowSec), ""));
    }

    /**
     * Removes what move and ban added for a resource: everywhere, or (node not null) the ban from that
     * node and a move to it. Returns the configuration unchanged when there is nothing to remove.
     */
    public static Configuration clear(Configuration config, String id, String node) {
        requireResource(config, id);
        Set<String> remove = new LinkedHashSet<>();
        for (OperatorConstraint c : operatorConstraints(config)) {
            if (c.resource().equals(id) && (node == null || node.equals(c.node()))) remove.add(c.id());
        }
        return valid(withoutConstraints(config, remove));
    }

    /** The constraints that move and ban added, with their node and expiry. */
    public static List<OperatorConstraint> operatorConstraints(Configuration config) {
        List<OperatorConstraint> out = new ArrayList<>();
        for (Location l : config.locations()) {
            boolean prefer = l.id().startsWith(PREFER_PREFIX);
            if (!prefer && !l.id().startsWith(BAN_PREFIX) || l.resource() == null) continue;
            String node = l.node();
            Integer score = l.score();
            String expires = null;
            for (Rule rule : l.rules()) {
                if (score == null) score = rule.score();
                for (Expression e : rule.expressions()) {
                    if (e instanceof Expression.Attribute a && "#uname".equals(a.attribute()) && "eq".equals(a.operation())) {
                        node = a.value();
                    } else if (e instanceof Expression.Date d && "lt".equals(d.operation())) {
                        expires = d.end();
                    }
                }
            }
            out.add(new OperatorConstraint(l.id(), prefer ? "prefer" : "ban", l.resource(), node,
                score == null ? 0 : score, expires, expires == null ? null : epochSeconds(expires)));
        }
        return out;
    }

    /**
     * Reads a lifetime: a number with a unit (30s, 10m, 2h, 1d, 1w) or an ISO-8601 duration (PT10M,
     * P1DT2H), as crm_resource's --lifetime takes it.
     */
    public static Duration parseLifetime(String text) {
        String hint = ": write a number with a unit (30s, 10m, 2h, 1d, 1w) or an ISO-8601 duration such as PT10M";
        if (text == null || text.isBlank()) throw new IllegalArgumentException("the lifetime is empty" + hint);
        String t = text.trim();
        Duration lifetime;
        Matcher m = SHORT_DURATION.matcher(t.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            lifetime = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            };
        } else {
            try {
                lifetime = Duration.parse(t.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("lifetime '" + text + "' is not a duration" + hint);
            }
        }
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.toSeconds() == 0) {
            throw new IllegalArgumentException("lifetime '" + text + "' is not at least one second" + hint);
        }
        if (lifetime.compareTo(LIFETIME_MAX) > 0) {
            throw new IllegalArgumentException("lifetime '" + text + "' is over " + LIFETIME_MAX.toDays()
                + " days: leave --lifetime out for a permanent constraint");
        }
        return lifetime;
    }

    // ------------------------------------------------------------------ nodes

    /** Sets a permanent node attribute in the node section ({@code node n1 attributes standby=on}). */
    public static Configuration setNodeAttribute(Configuration config, Collection<String> clusterNodes, String node,
                                                 String name, String value) {
        requireNode(config, clusterNodes, node);
        requireAttributeName(name, "node attribute");
        if (value == null || value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("the value of node attribute " + name + " is missing or holds control characters");
        }
        return valid(editNodeAttributes(config, node, attributes -> attributes.put(name, value)));
    }

    /**
     * Deletes a permanent node attribute; a node entry left with nothing is dropped. Returns the
     * configuration unchanged when the attribute is not set.
     */
    public static Configuration deleteNodeAttribute(Configuration config, Collection<String> clusterNodes, String node,
                                                    String name) {
        requireNode(config, clusterNodes, node);
        requireAttributeName(name, "node attribute");
        return valid(editNodeAttributes(config, node, attributes -> attributes.remove(name)));
    }

    // ------------------------------------------------------------------ constraints

    /** Adds the constraints {@code crmText} defines: location, colocation, order, rsc_ticket statements. */
    public static Configuration addConstraints(Configuration config, String crmText) {
        Configuration result = parseAdding(config, crmText, "nothing to add: give a statement such as "
            + "'location prefer-web web 100: n1', 'colocation web-with-ip INFINITY: web ip' or 'order ip-then-web ip web'");
        if (!result.resources().equals(config.resources()) || !sameSettings(config, result)) {
            throw new IllegalArgumentException("'constraint add' takes location, colocation, order and rsc_ticket statements "
                + "only: create resources with 'herd resource create'");
        }
        if (sameConstraints(config, result)) throw new IllegalArgumentException("the text defines no constraint");
        return valid(result);
    }

    /** Removes every part of the constraint with this id. */
    public static Configuration removeConstraint(Configuration config, String id) {
        if (constraints(config).stream().noneMatch(c -> c.id().equals(id))) {
            throw new IllegalArgumentException("there is no constraint '" + id + "': 'herd constraint list' shows them");
        }
        return valid(withoutConstraints(config, Set.of(id)));
    }

    /** Every constraint, in configuration order: locations, colocations, orders, tickets. */
    public static List<ConstraintLine> constraints(Configuration config) {
        List<ConstraintLine> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Location l : config.locations()) {
            String target = l.resource() != null ? l.resource() : "/" + l.resourcePattern() + "/";
            out.add(new ConstraintLine(l.id(), "location", List.of(target), only(List.of(l), List.of(), List.of(), List.of())));
        }
        for (Colocation c : config.colocations()) {
            if (!seen.add("c:" + c.id())) continue;
            List<Colocation> rows = config.colocations().stream().filter(x -> x.id().equals(c.id())).toList();
            Set<String> names = new LinkedHashSet<>();
            rows.forEach(x -> { names.add(x.dependent()); names.add(x.primary()); });
            out.add(new ConstraintLine(c.id(), "colocation", List.copyOf(names), only(List.of(), rows, List.of(), List.of())));
        }
        for (Order o : config.orders()) {
            if (!seen.add("o:" + o.id())) continue;
            List<Order> rows = config.orders().stream().filter(x -> x.id().equals(o.id())).toList();
            Set<String> names = new LinkedHashSet<>();
            rows.forEach(x -> { names.add(x.first()); names.add(x.then()); });
            out.add(new ConstraintLine(o.id(), "order", List.copyOf(names), only(List.of(), List.of(), rows, List.of())));
        }
        for (TicketConstraint t : config.tickets()) {
            if (!seen.add("t:" + t.id())) continue;
            List<TicketConstraint> rows = config.tickets().stream().filter(x -> x.id().equals(t.id())).toList();
            out.add(new ConstraintLine(t.id(), "rsc_ticket", rows.stream().map(TicketConstraint::resource).distinct().toList(),
                only(List.of(), List.of(), List.of(), rows)));
        }
        return out;
    }

    /** The ids of the constraints that name any of these resources, in configuration order. */
    public static List<String> constraintsNaming(Configuration config, Collection<String> resourceIds) {
        return constraints(config).stream().filter(c -> c.resources().stream().anyMatch(resourceIds::contains))
            .map(ConstraintLine::id).toList();
    }

    /** One resource's definition in crm shell syntax (a group or clone with what it holds). */
    public static String resourceText(Configuration config, String id) {
        Resource resource = requireResource(config, id);
        return CrmShell.format(withResources(Configuration.empty(), List.of(resource)));
    }

    /** The resource, or an error naming the resources there are. */
    public static Resource requireResource(Configuration config, String id) {
        return config.find(id).orElseThrow(() -> new IllegalArgumentException("there is no resource '" + id + "'"
            + (config.resources().isEmpty() ? "; none is configured yet ('herd resource create')"
            : ": the resources are " + String.join(", ", resourceIds(config)))));
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Validates and returns the canonical form: what the cluster stores is the printed text, whose
     * reading lists primitives before groups and clones, so the model handed back is that reading.
     */
    private static Configuration valid(Configuration config) {
        return Validator.requireValid(CrmShell.parse(CrmShell.format(config)));
    }

    /**
     * Parses {@code addedText} together with the configuration's own text, so new groups and clones may
     * take in existing resources and a reused id is refused. Errors name the line of {@code addedText}.
     */
    private static Configuration parseAdding(Configuration config, String addedText, String emptyMessage) {
        if (addedText == null || addedText.isBlank()) throw new IllegalArgumentException(emptyMessage);
        String existing = CrmShell.format(config);
        int existingLines = (int) existing.chars().filter(ch -> ch == '\n').count();
        try {
            return CrmShell.parse(existing + addedText);
        } catch (CrmShell.CrmSyntaxException e) {
            throw new IllegalArgumentException(relativeProblem(e, existingLines), e);
        }
    }

    private static final Pattern DEFINED_ON = Pattern.compile("is already defined on line (\\d+)");

    /** Rewrites "line N: problem" for the added text alone (its lines start after the existing ones). */
    private static String relativeProblem(CrmShell.CrmSyntaxException e, int existingLines) {
        String message = e.getMessage();
        String problem = message.substring(message.indexOf(": ") + 2);
        Matcher earlier = DEFINED_ON.matcher(problem);
        if (earlier.find()) {
            int line = Integer.parseInt(earlier.group(1));
            problem = line <= existingLines
                ? problem.substring(0, earlier.start()) + "already exists: pick another id"
                : problem.substring(0, earlier.start()) + "is already defined on line " + (line - existingLines);
        }
        return e.line() > existingLines ? "line " + (e.line() - existingLines) + ": " + problem : problem;
    }

    private static String operatorLocation(String constraintId, String resource, String node, int score, Duration lifetime,
                                           long nowSec) {
        String scoreText = Score.format(score);
        if (lifetime == null) return "location " + constraintId + " " + resource + " " + scoreText + ": " + node + "\n";
        String end = Instant.ofEpochSecond(nowSec + lifetime.toSeconds()).toString();
        return "location " + constraintId + " " + resource + " rule " + scoreText + ": #uname eq " + node
            + " and date lt " + end + "\n";
    }

    private static String banId(String resource, String node) {
        return BAN_PREFIX + resource + "-on-" + node;
    }

    private static Long epochSeconds(String isoDate) {
        try {
            return Instant.parse(isoDate).getEpochSecond();
        } catch (DateTimeParseException e) {
            return null; // written by someone else in another ISO-8601 form: shown, but not compared
        }
    }

    private static void requireNode(Configuration config, Collection<String> clusterNodes, String node) {
        if (node == null || node.isBlank()) throw new IllegalArgumentException("the node is missing");
        boolean known = clusterNodes.contains(node) || config.nodes().stream().anyMatch(n -> n.uname().equals(node));
        if (!known) {
            throw new IllegalArgumentException("there is no node '" + node + "' in the cluster (nodes: "
                + String.join(", ", clusterNodes) + "): 'herd node list' shows them");
        }
    }

    private static void requireAttributeName(String name, String what) {
        if (name == null || !ATTRIBUTE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " name '" + name + "' is not valid: use letters, digits, '_', '.' "
                + "and '-' (names starting with '#' belong to the cluster)");
        }
    }

    private static void requirePresent(List<String> names, Map<String, String> current, String id, String what) {
        for (String name : names) {
            if (!current.containsKey(name)) {
                throw new IllegalArgumentException(id + " has no " + what + " '" + name + "'"
                    + (current.isEmpty() ? "" : " (it has " + String.join(", ", current.keySet()) + ")"));
            }
        }
    }

    private static Map<String, String> changed(Map<String, String> current, Map<String, String> set, List<String> delete) {
        Map<String, String> out = new LinkedHashMap<>(current);
        delete.forEach(out::remove);
        out.putAll(new java.util.TreeMap<>(set)); // sorted, so the same request always prints the same text
        return out;
    }

    private static Configuration editNodeAttributes(Configuration config, String node,
                                                    java.util.function.Consumer<Map<String, String>> edit) {
        List<NodeConfig> nodes = new ArrayList<>();
        boolean found = false;
        for (NodeConfig n : config.nodes()) {
            if (!n.uname().equals(node)) {
                nodes.add(n);
                continue;
            }
            found = true;
            addUnlessEmpty(nodes, n, edit, config);
        }
        if (!found) addUnlessEmpty(nodes, new NodeConfig(node, node, "member", Map.of(), Map.of(), null), edit, config);
        // Declared nodes are the ones a fencing level may name: keep every node the topology names declared.
        if (!nodes.isEmpty()) {
            for (FencingLevel level : config.fencingTopology()) {
                String target = level.target();
                if (!level.forAllNodes() && nodes.stream().noneMatch(n -> n.uname().equals(target))) {
                    nodes.add(new NodeConfig(target, target, "member", Map.of(), Map.of(), null));
                }
            }
        }
        return config.withNodes(nodes);
    }

    /** A node entry left with nothing but its name says nothing, so it is dropped (unless a fencing level names it). */
    private static void addUnlessEmpty(List<NodeConfig> nodes, NodeConfig n, java.util.function.Consumer<Map<String, String>> edit,
                                       Configuration config) {
        Map<String, String> attributes = new LinkedHashMap<>(n.attributes());
        edit.accept(attributes);
        boolean empty = attributes.isEmpty() && n.utilization().isEmpty() && n.id().equals(n.uname())
            && (n.type() == null || n.type().equals("member")) && n.score() == null
            && config.fencingTopology().stream().noneMatch(l -> l.target().equals(n.uname()));
        if (!empty) nodes.add(new NodeConfig(n.id(), n.uname(), n.type(), attributes, n.utilization(), n.score()));
    }

    private static Configuration replaceResource(Configuration config, String id, UnaryOperator<Resource> edit) {
        return withResources(config, config.resources().stream().map(r -> replace(r, id, edit)).toList());
    }

    private static Resource replace(Resource r, String id, UnaryOperator<Resource> edit) {
        if (r.id().equals(id)) return edit.apply(r);
        return switch (r) {
            case Primitive p -> p;
            case Group g -> new Group(g.id(), g.meta(), g.members().stream().map(m -> (Primitive) replace(m, id, edit)).toList());
            case Clone c -> new Clone(c.id(), c.meta(), replace(c.child(), id, edit), c.promotable());
        };
    }

    private static Resource withMeta(Resource r, Map<String, String> meta) {
        return switch (r) {
            case Primitive p -> new Primitive(p.id(), p.agentClass(), p.provider(), p.type(), p.params(), meta,
                p.operations(), p.utilization());
            case Group g -> new Group(g.id(), meta, g.members());
            case Clone c -> new Clone(c.id(), meta, c.child(), c.promotable());
        };
    }

    private static Primitive withParams(Primitive p, Map<String, String> params) {
        return new Primitive(p.id(), p.agentClass(), p.provider(), p.type(), params, p.meta(), p.operations(), p.utilization());
    }

    private static Resource withoutInnerTargetRole(Resource r) {
        return switch (r) {
            case Primitive p -> p;
            case Group g -> new Group(g.id(), g.meta(), g.members().stream().map(m -> (Primitive) withoutTargetRole(m)).toList());
            case Clone c -> new Clone(c.id(), c.meta(), withoutInnerTargetRole(withoutTargetRole(c.child())), c.promotable());
        };
    }

    private static Resource withoutTargetRole(Resource r) {
        if (!r.meta().containsKey("target-role")) return r;
        Map<String, String> meta = new LinkedHashMap<>(r.meta());
        meta.remove("target-role");
        return withMeta(r, meta);
    }

    private static Optional<Resource> parentOf(Configuration config, String id) {
        for (Resource top : config.resources()) {
            Optional<Resource> found = parentWithin(top, id);
            if (found.isPresent()) return found;
        }
        return Optional.empty();
    }

    private static Optional<Resource> parentWithin(Resource r, String id) {
        return switch (r) {
            case Primitive p -> Optional.empty();
            case Group g -> g.members().stream().anyMatch(m -> m.id().equals(id)) ? Optional.of(g) : Optional.empty();
            case Clone c -> c.child().id().equals(id) ? Optional.of(c) : parentWithin(c.child(), id);
        };
    }

    private static Set<String> idsWithin(Resource r) {
        Set<String> ids = new LinkedHashSet<>();
        ids.add(r.id());
        switch (r) {
            case Primitive p -> { }
            case Group g -> g.members().forEach(m -> ids.add(m.id()));
            case Clone c -> ids.addAll(idsWithin(c.child()));
        }
        return ids;
    }

    private static List<String> resourceIds(Configuration config) {
        List<String> ids = new ArrayList<>();
        config.resources().forEach(r -> ids.addAll(idsWithin(r)));
        return ids;
    }

    private static List<String> primitiveIds(Resource r) {
        return idsWithin(r).stream().filter(id -> !id.equals(r.id())).toList();
    }

    private static String kind(Resource r) {
        return switch (r) {
            case Primitive p -> "primitive";
            case Group g -> "group";
            case Clone c -> c.promotable() ? "promotable clone" : "clone";
        };
    }

    private static Configuration withResources(Configuration c, List<Resource> resources) {
        return new Configuration(c.properties(), c.resourceDefaults(), c.operationDefaults(), c.nodes(), resources,
            c.locations(), c.colocations(), c.orders(), c.tickets(), c.fencingTopology());
    }

    /** The topology without these devices: a level left empty is dropped, the target's later levels move up. */
    private static List<FencingLevel> withoutDevices(List<FencingLevel> topology, Set<String> gone) {
        List<FencingLevel> out = new ArrayList<>();
        Map<String, Integer> dropped = new LinkedHashMap<>();
        List<FencingLevel> sorted = new ArrayList<>(topology);
        sorted.sort(java.util.Comparator.comparingInt(FencingLevel::index));
        Map<FencingLevel, FencingLevel> replaced = new java.util.IdentityHashMap<>();
        for (FencingLevel l : sorted) {
            List<String> devices = l.devices().stream().filter(d -> !gone.contains(d)).toList();
            int shift = dropped.getOrDefault(l.target(), 0);
            if (devices.isEmpty()) {
                dropped.put(l.target(), shift + 1);
            } else {
                replaced.put(l, new FencingLevel(l.target(), l.index() - shift, devices));
            }
        }
        for (FencingLevel l : topology) if (replaced.containsKey(l)) out.add(replaced.get(l));
        return out;
    }

    private static Configuration withoutConstraints(Configuration c, Set<String> ids) {
        Predicate<String> keep = id -> !ids.contains(id);
        return new Configuration(c.properties(), c.resourceDefaults(), c.operationDefaults(), c.nodes(), c.resources(),
            c.locations().stream().filter(l -> keep.test(l.id())).toList(),
            c.colocations().stream().filter(x -> keep.test(x.id())).toList(),
            c.orders().stream().filter(x -> keep.test(x.id())).toList(),
            c.tickets().stream().filter(x -> keep.test(x.id())).toList(), c.fencingTopology());
    }

    private static String only(List<Location> locations, List<Colocation> colocations, List<Order> orders,
                               List<TicketConstraint> tickets) {
        Configuration one = new Configuration(Map.of(), Map.of(), Map.of(), List.of(), List.of(), locations, colocations,
            orders, tickets);
        return CrmShell.format(one).replace(" \\\n    ", " ").strip();
    }

    private static boolean sameConstraints(Configuration a, Configuration b) {
        return a.locations().equals(b.locations()) && a.colocations().equals(b.colocations())
            && a.orders().equals(b.orders()) && a.tickets().equals(b.tickets());
    }

    private static boolean sameSettings(Configuration a, Configuration b) {
        return a.properties().equals(b.properties()) && a.resourceDefaults().equals(b.resourceDefaults())
            && a.operationDefaults().equals(b.operationDefaults()) && a.nodes().equals(b.nodes())
            && a.fencingTopology().equals(b.fencingTopology());
    }
}
