// The grammar of virtual statements: SHOW / SET [SESSION] / RESET of a pgbalancer.* name, alone in its text.
package io.pgbalancer.causal;

import io.pgbalancer.sql.SqlLexer;
import io.pgbalancer.sql.Token;
import io.pgbalancer.sql.TokenType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the text with the SQL lexer, so comments, quotes and dollar quotes are skipped exactly as PostgreSQL does.
 * A statement is virtual when it starts {@code SHOW pgbalancer.}, {@code RESET pgbalancer.} or {@code SET [SESSION |
 * LOCAL] pgbalancer.}; names fold to lower case, quoted or not, as PostgreSQL's parameter names are case-insensitive.
 * SET takes {@code TO} or {@code =} and one value: a string constant ({@code '...'}, {@code E'...'}, {@code $$...$$}),
 * a number with an optional sign, a word, or {@code DEFAULT}, as PostgreSQL's grammar accepts. Errors found here are
 * the ones PostgreSQL finds when parsing (syntax, 42601); unknown names and bad values are found when running.
 */
final class ProxyStatementParser {
    private static final String NOT_ALONE = "pgbalancer.* settings must be set in a statement of their own";

    private final List<Token> t;

    private ProxyStatementParser(List<Token> tokens) {
        this.t = tokens;
    }

    static ProxyStatement parse(String sql) {
        if (!mentionsPgbalancer(sql)) {
            return null; // the common case, without lexing
        }
        ProxyStatementParser p = new ProxyStatementParser(SqlLexer.tokenize(sql));
        List<int[]> statements = p.split();
        int[] virtual = null;
        for (int[] range : statements) {
            if (p.isVirtual(range[0])) {
                virtual = range;
                break;
            }
        }
        if (virtual == null) {
            return null;
        }
        if (statements.size() > 1) {
            return ProxyStatement.invalid(new ProxyError("0A000", NOT_ALONE));
        }
        try {
            return p.statement(virtual[0], virtual[1]);
        } catch (ProxyError e) {
            return ProxyStatement.invalid(e);
        }
    }

    private static boolean mentionsPgbalancer(String sql) {
        String word = "pgbalancer";
        for (int i = 0, last = sql.length() - word.length(); i <= last; i++) {
            if (sql.regionMatches(true, i, word, 0, word.length())) {
                return true;
            }
        }
        return false;
    }

    /** Token ranges {@code [from, to)} of the non-empty statements, split at semicolons outside parentheses. */
    private List<int[]> split() {
        List<int[]> out = new ArrayList<>(1);
        int from = 0;
        int depth = 0;
        for (int i = 0; i < t.size(); i++) {
            TokenType type = t.get(i).type();
            if (type == TokenType.LPAREN) {
                depth++;
            } else if (type == TokenType.RPAREN) {
                depth--;
            } else if (type == TokenType.SEMICOLON && depth == 0) {
                if (i > from) {
                    out.add(new int[] {from, i});
                }
                from = i + 1;
            }
        }
        if (t.size() > from) {
            out.add(new int[] {from, t.size()});
        }
        return out;
    }

    private boolean isVirtual(int i) {
        if (isWord(i, "set")) {
            i++;
            if (isWord(i, "session") || isWord(i, "local")) {
                i++;
            }
        } else if (isWord(i, "show") || isWord(i, "reset")) {
            i++;
        } else {
            return false;
        }
        return isName(i) && part(i).equals("pgbalancer") && is(i + 1, TokenType.DOT);
    }

    /** Parses the virtual statement {@code [from, to)}; throws the syntax error to answer. */
    private ProxyStatement statement(int from, int to) {
        if (isWord(from, "show") || isWord(from, "reset")) {
            int end = nameEnd(from + 1, to);
            expectEnd(end, to);
            ProxyStatement.Kind kind = isWord(from, "show") ? ProxyStatement.Kind.SHOW : ProxyStatement.Kind.RESET;
            return new ProxyStatement(kind, name(from + 1, end), null, null);
        }
        int i = from + 1;
        if (isWord(i, "local")) {
            throw new ProxyError("0A000", "SET LOCAL is not supported for pgbalancer.* settings",
                    null, "Use SET or SET SESSION.");
        }
        if (isWord(i, "session")) {
            i++;
        }
        int end = nameEnd(i, to);
        String name = name(i, end);
        if (!(isWord(end, "to") || isOperator(end, "="))) {
            throw syntaxError(end, to);
        }
        return new ProxyStatement(ProxyStatement.Kind.SET, name, value(name, end + 1, to), null);
    }

    /** The value of a SET in {@code [i, to)}: null for DEFAULT. */
    private String value(String name, int i, int to) {
        if (i + 1 == to && isWord(i, "default")) {
            return null;
        }
        String value = null;
        while (true) {
            String item;
            if (is(i, TokenType.STRING)) {
                item = unquote(i);
                i++;
            } else if (is(i, TokenType.NUMBER)) {
                item = t.get(i++).text();
            } else if ((isOperator(i, "-") || isOperator(i, "+")) && is(i + 1, TokenType.NUMBER)) {
                item = (isOperator(i, "-") ? "-" : "") + t.get(i + 1).text();
                i += 2;
            } else if (is(i, TokenType.IDENT) && !isWord(i, "default")) {
                item = t.get(i++).text().toLowerCase(Locale.ROOT);
            } else {
                throw syntaxError(i, to);
            }
            if (value != null) {
                throw new ProxyError("22023", "SET " + name + " takes only one argument");
            }
            value = item;
            if (i >= to) {
                return value;
            }
            if (!is(i, TokenType.COMMA)) {
                throw syntaxError(i, to);
            }
            i++;
        }
    }

    /** The text of the string constant at {@code i}; 42601 for the kinds a setting cannot take (bit strings). */
    private String unquote(int i) {
        String s = t.get(i).text();
        char c = Character.toLowerCase(s.charAt(0));
        if (c == '\'' || c == 'n' && s.length() > 1 && s.charAt(1) == '\'') {
            String body = c == '\'' ? s : s.substring(1);
            return body.substring(1, body.length() - 1).replace("''", "'");
        }
        if (c == 'e') {
            return unescape(s.substring(2, s.length() - 1));
        }
        if (c == '$') {
            int tag = s.indexOf('$', 1) + 1;
            return s.substring(tag, s.length() - tag);
        }
        throw syntaxError(i, i + 1);
    }

    /** The body of an E'' string: doubled quotes and the simple backslash escapes. */
    private static String unescape(String body) {
        StringBuilder out = new StringBuilder(body.length());
        for (int k = 0; k < body.length(); k++) {
            char c = body.charAt(k);
            if (c == '\'' && k + 1 < body.length() && body.charAt(k + 1) == '\'') {
                out.append('\'');
                k++;
            } else if (c == '\\' && k + 1 < body.length()) {
                char e = body.charAt(++k);
                out.append(switch (e) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case 'b' -> '\b';
                    case 'f' -> '\f';
                    default -> e;
                });
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The index after a dotted name starting at {@code i}; 42601 when there is none. */
    private int nameEnd(int i, int to) {
        if (i >= to || !isName(i)) {
            throw syntaxError(i, to);
        }
        i++;
        while (i + 1 < to && is(i, TokenType.DOT) && isName(i + 1)) {
            i += 2;
        }
        return i;
    }

    private String name(int from, int end) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < end; i += 2) {
            b.append(i > from ? "." : "").append(part(i));
        }
        return b.toString();
    }

    /** One part of a name: quotes removed, lower case either way (parameter names are case-insensitive). */
    private String part(int i) {
        String s = t.get(i).text();
        if (is(i, TokenType.QUOTED_IDENT) && s.startsWith("\"") && s.length() >= 2) {
            s = s.substring(1, s.length() - 1).replace("\"\"", "\"");
        }
        return s.toLowerCase(Locale.ROOT);
    }

    private void expectEnd(int i, int to) {
        if (i < to) {
            throw syntaxError(i, to);
        }
    }

    /** PostgreSQL's wording: at or near the offending token, or at end of input. */
    private ProxyError syntaxError(int i, int to) {
        if (i >= to) {
            return new ProxyError("42601", "syntax error at end of input");
        }
        if (is(i, TokenType.ERROR)) {
            return new ProxyError("42601", "unterminated quoted string or comment at or near \"" + t.get(i).text() + "\"");
        }
        return new ProxyError("42601", "syntax error at or near \"" + t.get(i).text() + "\"");
    }

    private boolean is(int i, TokenType type) {
        return i >= 0 && i < t.size() && t.get(i).type() == type;
    }

    private boolean isName(int i) {
        return is(i, TokenType.IDENT) || is(i, TokenType.QUOTED_IDENT);
    }

    private boolean isWord(int i, String lower) {
        return is(i, TokenType.IDENT) && t.get(i).text().equalsIgnoreCase(lower);
    }

    private boolean isOperator(int i, String op) {
        return is(i, TokenType.OPERATOR) && t.get(i).text().equals(op);
    }
}
