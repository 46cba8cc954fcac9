package herd.core.command;

import herd.core.ErrorCode;
import herd.core.Limits;
import herd.core.Rejection;
import herd.core.cluster.NameRules;
import herd.core.resource.FencingEvent;
import herd.core.resource.OperationRecord;
import java.util.Optional;
import java.util.Set;

/** Checks of the commands that carry resource status, before they enter the log. */
final class ResourceCommandRules {
    private ResourceCommandRules() {}

    static final Set<String> OPERATIONS = Set.of("start", "stop", "monitor", "promote", "demote", "notify",
        "migrate_to", "migrate_from", "reload", "reload-agent");

    static Optional<Rejection> checkOperations(Command.RecordOperations record) {
        Optional<Rejection> node = NameRules.checkName("node", record.node());
        if (node.isPresent()) {
            return node;
        }
        if (record.operations() == null || record.operations().isEmpty()) {
            return bad("a report of operation results needs at least one result");
        }
        if (record.operations().size() > Limits.MAX_OPERATIONS_PER_REPORT) {
            return bad("a report carries at most " + Limits.MAX_OPERATIONS_PER_REPORT + " results, not "
                + record.operations().size() + ": send them in several reports");
        }
        for (OperationRecord operation : record.operations()) {
            Optional<Rejection> invalid = checkOperation(operation);
            if (invalid.isPresent()) {
                return invalid;
            }
        }
        return Optional.empty();
    }

    static Optional<Rejection> checkOperation(OperationRecord operation) {
        if (operation == null) {
            return bad("an operation result is missing");
        }
        return checkResourceId(operation.resource())
            .or(() -> operation.agent() == null || operation.agent().isBlank() || operation.agent().length() > 256
                ? bad("result of " + operation.resource() + " has no agent (class:provider:type)") : Optional.empty())
            .or(() -> OPERATIONS.contains(operation.operation()) ? Optional.empty()
                : bad("'" + operation.operation() + "' is not an operation; one of " + String.join(", ", OPERATIONS.stream().sorted().toList())))
            .or(() -> operation.intervalMillis() < 0 || operation.durationMillis() < 0 || operation.callId() < 0
                ? bad("result of " + operation.resource() + " has a negative interval, duration or call id") : Optional.empty())
            .or(() -> checkReason(operation.exitReason()));
    }

    static Optional<Rejection> checkMembership(Command.SetNodeMembership set) {
        return NameRules.checkName("node", set.node())
            .or(() -> set.membership() == null ? bad("the membership is missing (member, lost or down)") : Optional.empty())
            .or(() -> checkReason(set.reason()))
            .or(() -> checkBootId(set.bootId()));
    }

    static Optional<Rejection> checkBootId(String bootId) {
        return bootId == null || herd.core.resource.NodeStatus.validBootId(bootId) ? Optional.empty()
            : bad(herd.core.resource.NodeStatus.BOOT_ID_RULE);
    }

    static Optional<Rejection> checkFencing(FencingEvent event) {
        if (event == null) {
            return bad("the fencing result is missing");
        }
        return NameRules.checkName("node", event.target()).or(() -> checkReason(event.detail()));
    }

    static Optional<Rejection> checkCleanup(Command.CleanupResource cleanup) {
        return checkResourceId(cleanup.resource())
            .or(() -> cleanup.node() == null ? Optional.empty() : NameRules.checkName("node", cleanup.node()));
    }

    private static Optional<Rejection> checkResourceId(String id) {
        if (id == null || id.isBlank()) {
            return bad("the resource id is missing");
        }
        if (id.length() > Limits.MAX_RESOURCE_ID_CHARS) {
            return bad("resource id of " + id.length() + " characters; the limit is " + Limits.MAX_RESOURCE_ID_CHARS);
        }
        return Optional.empty();
    }

    private static Optional<Rejection> checkReason(String reason) {
        if (reason != null && reason.length() > Limits.MAX_REASON_CHARS) {
            return bad("a reason of " + reason.length() + " characters; the limit is " + Limits.MAX_REASON_CHARS);
        }
        return Optional.empty();
    }

    private static Optional<Rejection> bad(String message) {
        return Optional.of(new Rejection(ErrorCode.BAD_REQUEST, message));
    }
}
