package herd.scheduler.model;

import java.util.List;

/**
 * A rule: expressions joined by "and" or "or". As the top rule of a location constraint it carries the
 * score (or the node attribute whose value is the score) and an optional role.
 */
public record Rule(String id, Integer score, String scoreAttribute, String booleanOp, Role role,
                   List<Expression> expressions) implements Expression {
    public Rule {
        expressions = List.copyOf(expressions);
        if (booleanOp == null || booleanOp.isBlank()) booleanOp = "and";
    }
}
