package herd.lincheck;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A small line format for histories, so a history that failed in an integration test can be saved,
 * read by a person, and fed to the checker again.
 *
 * <pre>
 * # herd-lincheck history v1
 * # client key invokedNanos completedNanos action outcome
 * 0 "k1" 100 200 put "v5" ok
 * 1 "k1" 150 250 get read "v5"
 * 1 "k1" 300 350 get read absent
 * 2 "k1" 300 400 cas "v5" "v7" ok
 * 2 "k1" 500 600 cas absent "v8" mismatch
 * 3 "k1" 700 800 delete ok
 * 3 "k1" 900 2900 put "v9" indeterminate "timed out after 2 s"
 * 4 "k1" 950 960 put "v10" rejected "HTTP 400"
 * </pre>
 *
 * <p>Keys, values and reasons are double-quoted with Java-style escapes ({@code \" \\ \n \r \t
 * \}{@code uXXXX}); the bare word {@code absent} stands for "no value". Blank lines and lines starting
 * with {@code #} are ignored.
 */
public final class HistoryFormat {

    public static final String HEADER = "# herd-lincheck history v1";
    private static final String COLUMNS = "# client key invokedNanos completedNanos action outcome";
    private static final String LINE_SHAPE = "<client> \"<key>\" <invokedNanos> <completedNanos>"
        + " put \"<value>\" | get | delete | cas (\"<expected>\"|absent) \"<new>\","
        + " then ok | read (\"<value>\"|absent) | mismatch | rejected \"<reason>\" | indeterminate \"<reason>\"";

    private HistoryFormat() {}

    /** The whole history as text, one operation per line, in the history's order. */
    public static String format(History history) {
        StringBuilder text = new StringBuilder(HEADER).append('\n').append(COLUMNS).append('\n');
        for (Operation operation : history.operations()) {
            text.append(formatLine(operation)).append('\n');
        }
        return text.toString();
    }

    public static String formatLine(Operation operation) {
        String action = switch (operation.action()) {
            case Action.Put put -> "put " + quote(put.value());
            case Action.Get get -> "get";
            case Action.Delete delete -> "delete";
            case Action.Cas cas -> "cas " + formatValue(cas.expected()) + " " + quote(cas.newValue());
        };
        String outcome = switch (operation.outcome()) {
            case Outcome.Ok ok -> "ok";
            case Outcome.Read read -> "read " + formatValue(read.value());
            case Outcome.Mismatch mismatch -> "mismatch";
            case Outcome.Rejected rejected -> "rejected " + quote(rejected.reason());
            case Outcome.Indeterminate indeterminate -> "indeterminate " + quote(indeterminate.reason());
        };
        return operation.clientId() + " " + quote(operation.key()) + " " + operation.invokedAtNanos() + " "
            + operation.completedAtNanos() + " " + action + " " + outcome;
    }

    /**
     * Reads text written by {@link #format}.
     *
     * @throws IllegalArgumentException naming the line and what is wrong with it
     */
    public static History parse(String text) {
        List<Operation> operations = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                operations.add(parseLine(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("history line " + (i + 1) + ": " + e.getMessage()
                    + "\n  the line: " + line + "\n  expected: " + LINE_SHAPE, e);
            }
        }
        return new History(operations);
    }

    public static Operation parseLine(String line) {
        Tokens tokens = new Tokens(tokenize(line));
        int client = (int) tokens.number("client id");
        String key = tokens.quoted("key");
        long invoked = tokens.number("invokedNanos");
        long completed = tokens.number("completedNanos");
        String actionWord = tokens.word("action");
        Action action = switch (actionWord) {
            case "put" -> Action.put(tokens.quoted("put value"));
            case "get" -> Action.get();
            case "delete" -> Action.delete();
            case "cas" -> new Action.Cas(tokens.valueOrAbsent("cas expected value"), tokens.quoted("cas new value"));
            default -> throw new IllegalArgumentException("unknown action '" + actionWord
                + "': use put, get, delete or cas");
        };
        String outcomeWord = tokens.word("outcome");
        Outcome outcome = switch (outcomeWord) {
            case "ok" -> Outcome.ok();
            case "read" -> new Outcome.Read(tokens.valueOrAbsent("value read"));
            case "mismatch" -> Outcome.mismatch();
            case "rejected" -> Outcome.rejected(tokens.quoted("rejection reason"));
            case "indeterminate" -> Outcome.indeterminate(tokens.quoted("indeterminate reason"));
            default -> throw new IllegalArgumentException("unknown outcome '" + outcomeWord
                + "': use ok, read, mismatch, rejected or indeterminate");
        };
        tokens.expectEnd();
        return new Operation(client, key, action, outcome, invoked, completed);
    }

    /** {@code text} in double quotes, with quotes, backslashes and control characters escaped. */
    public static String quote(String text) {
        StringBuilder quoted = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> quoted.append("\\\"");
                case '\\' -> quoted.append("\\\\");
                case '\n' -> quoted.append("\\n");
                case '\r' -> quoted.append("\\r");
                case '\t' -> quoted.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        quoted.append(String.format("\\u%04x", (int) c));
                    } else {
                        quoted.append(c);
                    }
                }
            }
        }
        return quoted.append('"').toString();
    }

    private static String formatValue(Optional<String> value) {
        return value.map(HistoryFormat::quote).orElse("absent");
    }

    private record Token(String text, boolean quoted) {}

    private static List<Token> tokenize(String line) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '"') {
                StringBuilder text = new StringBuilder();
                i = readQuoted(line, i + 1, text);
                tokens.add(new Token(text.toString(), true));
            } else {
                int start = i;
                while (i < line.length() && !Character.isWhitespace(line.charAt(i)) && line.charAt(i) != '"') {
                    i++;
                }
                tokens.add(new Token(line.substring(start, i), false));
            }
        }
        return tokens;
    }

    /** Reads a quoted string's body starting after the opening quote; returns the index after the closing one. */
    private static int readQuoted(String line, int start, StringBuilder text) {
        int i = start;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c != '\\') {
                text.append(c);
                i++;
                continue;
            }
            if (i + 1 >= line.length()) {
                break;
            }
            char escaped = line.charAt(i + 1);
            switch (escaped) {
                case '"', '\\' -> text.append(escaped);
                case 'n' -> text.append('\n');
                case 'r' -> text.append('\r');
                case 't' -> text.append('\t');
                case 'u' -> {
                    if (i + 6 > line.length()) {
                        throw new IllegalArgumentException("\\u at column " + (i + 1) + " needs four hex digits");
                    }
                    try {
                        text.append((char) Integer.parseInt(line.substring(i + 2, i + 6), 16));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("\\u at column " + (i + 1) + " needs four hex digits, got '"
                            + line.substring(i + 2, i + 6) + "'");
                    }
                    i += 4;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + escaped + " at column " + (i + 1)
                    + ": use \\\" \\\\ \\n \\r \\t or \\uXXXX");
            }
            i += 2;
        }
        throw new IllegalArgumentException("a quoted string starting at column " + start + " is not closed with \"");
    }

    private static final class Tokens {
        private final List<Token> tokens;
        private int next;

        Tokens(List<Token> tokens) {
            this.tokens = tokens;
        }

        private Token take(String what) {
            if (next >= tokens.size()) {
                throw new IllegalArgumentException("the line ends where the " + what + " should be");
            }
            return tokens.get(next++);
        }

        long number(String what) {
            Token token = take(what);
            try {
                if (token.quoted()) {
                    throw new NumberFormatException();
                }
                return Long.parseLong(token.text());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the " + what + " must be a whole number, got "
                    + (token.quoted() ? quote(token.text()) : "'" + token.text() + "'"));
            }
        }

        String quoted(String what) {
            Token token = take(what);
            if (!token.quoted()) {
                throw new IllegalArgumentException("the " + what + " must be in double quotes, got '" + token.text() + "'");
            }
            return token.text();
        }

        String word(String what) {
            Token token = take(what);
            if (token.quoted()) {
                throw new IllegalArgumentException("the " + what + " must be a bare word, got " + quote(token.text()));
            }
            return token.text();
        }

        Optional<String> valueOrAbsent(String what) {
            Token token = take(what);
            if (token.quoted()) {
                return Optional.of(token.text());
            }
            if (token.text().equals("absent")) {
                return Optional.empty();
            }
            throw new IllegalArgumentException("the " + what + " must be a quoted value or the word absent, got '"
                + token.text() + "'");
        }

        void expectEnd() {
            if (next < tokens.size()) {
                Token extra = tokens.get(next);
                throw new IllegalArgumentException("unexpected " + (extra.quoted() ? quote(extra.text())
                    : "'" + extra.text() + "'") + " after the outcome");
            }
        }
    }
}
