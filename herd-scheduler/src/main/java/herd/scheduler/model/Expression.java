package herd.scheduler.model;

import java.util.List;
import java.util.Map;

/** A condition inside a rule: over node attributes, over the date, or a nested rule. */
public sealed interface Expression permits Expression.Attribute, Expression.Date, Rule {

    /**
     * Compares a node attribute: operation is defined, not_defined, eq, ne, lt, gt, lte, gte; type is
     * string, integer, number or version (null: guessed from the value as Pacemaker does).
     */
    record Attribute(String id, String attribute, String operation, String value, String type,
                     String valueSource) implements Expression {}

    /**
     * A date condition: operation is gt, lt, in_range or date_spec. start/end are ISO-8601 texts;
     * duration and dateSpec hold the fields (years, months, weekdays, hours, ...) as given.
     */
    record Date(String id, String operation, String start, String end, Map<String, String> duration,
                Map<String, String> dateSpec) implements Expression {
        public Date {
            duration = duration == null ? Map.of() : Maps.copy(duration);
            dateSpec = dateSpec == null ? Map.of() : Maps.copy(dateSpec);
        }
    }

    static List<Expression> copy(List<Expression> list) {
        return List.copyOf(list);
    }
}
