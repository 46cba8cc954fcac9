package herd.scheduler;

import herd.scheduler.model.Expression;
import herd.scheduler.model.Rule;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.IsoFields;
import java.util.Locale;
import java.util.Map;

/** Evaluates location rules on a node's attributes at a given time, as Pacemaker does. */
final class Rules {
    private Rules() {}

    static boolean matches(Rule rule, Map<String, String> nodeAttrs, long nowSec) {
        boolean and = !"or".equalsIgnoreCase(rule.booleanOp());
        if (rule.expressions().isEmpty()) return true;
        for (Expression e : rule.expressions()) {
            boolean hit = matches(e, nodeAttrs, nowSec);
            if (and && !hit) return false;
            if (!and && hit) return true;
        }
        return and;
    }

    private static boolean matches(Expression e, Map<String, String> attrs, long nowSec) {
        return switch (e) {
            case Rule r -> matches(r, attrs, nowSec);
            case Expression.Attribute a -> attribute(a, attrs);
            case Expression.Date d -> date(d, nowSec);
        };
    }

    static boolean attribute(Expression.Attribute a, Map<String, String> attrs) {
        String actual = attrs.get(a.attribute());
        String op = a.operation() == null ? "" : a.operation().toLowerCase(Locale.ROOT);
        if (op.equals("defined")) return actual != null;
        if (op.equals("not_defined")) return actual == null;
        String expected = a.value();
        if ("param".equals(a.valueSource()) || "meta".equals(a.valueSource())) return false;
        if (actual == null || expected == null) return op.equals("ne") && actual == null ? true : false;
        int cmp = compare(actual, expected, a.type());
        return switch (op) {
            case "eq" -> cmp == 0;
            case "ne" -> cmp != 0;
            case "lt" -> cmp < 0;
            case "lte" -> cmp <= 0;
            case "gt" -> cmp > 0;
            case "gte" -> cmp >= 0;
            default -> false;
        };
    }

    /** Compares as the expression's type; without a type, as integers when both look like integers. */
    private static int compare(String actual, String expected, String type) {
        String t = type == null ? null : type.toLowerCase(Locale.ROOT);
        if (t == null) {
            t = actual.matches("-?\\d+") && expected.matches("-?\\d+") ? "integer"
                    : (expected.matches("-?\\d+(\\.\\d+)?") && actual.matches("-?\\d+(\\.\\d+)?") ? "number" : "string");
        }
        try {
            switch (t) {
                case "integer" -> {
                    return Long.compare(parseIntegerLike(actual), parseIntegerLike(expected));
                }
                case "number" -> {
                    return Double.compare(Double.parseDouble(actual), Double.parseDouble(expected));
                }
                case "version" -> {
                    return compareVersions(actual, expected);
                }
                default -> {
                    return Integer.signum(actual.compareTo(expected));
                }
            }
        } catch (NumberFormatException e) {
            // Pacemaker falls back to a string comparison when a value does not parse.
            return Integer.signum(actual.compareTo(expected));
        }
    }

    private static long parseIntegerLike(String s) {
        String t = s.trim();
        if (t.matches("-?\\d+\\.\\d*")) return (long) Double.parseDouble(t);
        return Long.parseLong(t);
    }

    private static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long xi = i < x.length ? Long.parseLong(x[i].replaceAll("\\D.*", "0")) : 0;
            long yi = i < y.length ? Long.parseLong(y[i].replaceAll("\\D.*", "0")) : 0;
            if (xi != yi) return Long.compare(xi, yi);
        }
        return 0;
    }

    static boolean date(Expression.Date d, long nowSec) {
        String op = d.operation() == null ? "in_range" : d.operation();
        switch (op) {
            case "gt" -> {
                return d.start() != null && nowSec > parseDate(d.start());
            }
            case "lt" -> {
                return d.end() != null && nowSec < parseDate(d.end());
            }
            case "in_range" -> {
                if (d.start() != null && nowSec < parseDate(d.start())) return false;
                if (d.end() != null) return nowSec <= parseDate(d.end());
                if (d.start() != null && !d.duration().isEmpty()) {
                    return nowSec <= addDuration(parseDate(d.start()), d.duration());
                }
                return true;
            }
            case "date_spec" -> {
                return dateSpec(d.dateSpec(), nowSec);
            }
            default -> {
                return false;
            }
        }
    }

    static long parseDate(String text) {
        String t = text.trim().replaceFirst(" ([+-]\\d\\d:?\\d\\d)$", "$1").replaceFirst("Z$", "+00:00").replace(' ', 'T');
        try {
            return OffsetDateTime.parse(t).toEpochSecond();
        } catch (DateTimeParseException e) {
            try {
                String withTime = t.contains("T") ? t : t + "T00:00:00";
                if (withTime.matches(".*T\\d\\d:\\d\\d$")) withTime += ":00";
                if (withTime.matches(".*T\\d\\d$")) withTime += ":00:00";
                return LocalDateTime.parse(withTime).toEpochSecond(ZoneOffset.UTC);
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("date '" + text + "' is not an ISO-8601 date");
            }
        }
    }

    private static long addDuration(long start, Map<String, String> dur) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(start, 0, ZoneOffset.UTC);
        t = t.plusYears(num(dur, "years")).plusMonths(num(dur, "months")).plusWeeks(num(dur, "weeks"))
                .plusDays(num(dur, "days")).plusHours(num(dur, "hours")).plusMinutes(num(dur, "minutes"))
                .plusSeconds(num(dur, "seconds"));
        return t.toEpochSecond(ZoneOffset.UTC);
    }

    private static long num(Map<String, String> m, String k) {
        String v = m.get(k);
        return v == null ? 0 : Long.parseLong(v.trim());
    }

    private static boolean dateSpec(Map<String, String> spec, long nowSec) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(nowSec, 0, ZoneOffset.UTC);
        return in(spec.get("years"), t.getYear()) && in(spec.get("months"), t.getMonthValue())
                && in(spec.get("monthdays"), t.getDayOfMonth()) && in(spec.get("hours"), t.getHour())
                && in(spec.get("minutes"), t.getMinute()) && in(spec.get("seconds"), t.getSecond())
                && in(spec.get("yeardays"), t.getDayOfYear())
                && in(spec.get("weekdays"), t.getDayOfWeek().getValue())
                && in(spec.get("weeks"), t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR))
                && in(spec.get("weekyears"), t.get(IsoFields.WEEK_BASED_YEAR));
    }

    /** A date_spec field: a number or a range "a-b"; absent means any. */
    private static boolean in(String range, int value) {
        if (range == null || range.isBlank()) return true;
        String r = range.trim();
        int dash = r.indexOf('-', 1);
        if (dash > 0) {
            return value >= Integer.parseInt(r.substring(0, dash).trim()) && value <= Integer.parseInt(r.substring(dash + 1).trim());
        }
        return value == Integer.parseInt(r);
    }
}
