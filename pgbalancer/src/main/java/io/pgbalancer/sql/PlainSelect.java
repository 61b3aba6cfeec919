// purpose: the cheap test that decides a simple SELECT is a plain read from its bytes, without decoding or lexing it
package io.pgbalancer.sql;

/**
 * Simple-protocol texts carry their literals inline ({@code ... WHERE aid = 48213}), so nearly every text is new to
 * the classification cache: a decode, a lex and a cache write per query. Most of them are plain reads, and those can
 * be recognised in one pass over the bytes: {@code SELECT} first, then only words, numbers, operators and
 * punctuation that cannot call a function or change anything. Anything else (a parenthesis, which could be a call;
 * a quote, dollar or backslash; a comment, which could be a hint; a semicolon before the end; a byte outside ASCII;
 * the words {@code FOR}, {@code INTO}, {@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code MERGE}) sends the text
 * to {@link StatementClassifier}, which gives the same answer for every text this accepts (a property test checks).
 */
public final class PlainSelect {
  private static final byte[] SELECT = bytes("select");
  private static final byte[] FOR = bytes("for");
  private static final byte[] INTO = bytes("into");
  private static final byte[] MERGE = bytes("merge");
  private static final byte[] INSERT = bytes("insert");
  private static final byte[] UPDATE = bytes("update");
  private static final byte[] DELETE = bytes("delete");

  private PlainSelect() {
  }

  /** Whether {@code text[0, len)} is one plain SELECT that reads only; false means "ask the classifier". */
  public static boolean matches(byte[] text, int len) {
    int i = skipSpace(text, 0, len);
    if (!word(text, i, len, SELECT)) {
      return false;
    }
    i += 6;
    if (i < len && isWordByte(text[i])) {
      return false; // "selection", not "select"
    }
    while (i < len) {
      byte b = text[i];
      if (isWordByte(b)) {
        int start = i;
        while (i < len && isWordByte(text[i])) {
          i++;
        }
        if (isRiskyWord(text, start, i - start) || (isDigit(text[start]) && !allDigits(text, start, i))) {
          return false; // PostgreSQL 15 reads "1for" as 1 FOR
        }
        continue;
      }
      switch (b) {
        case ' ', '\t', '\n', '\r', '\f', ',', '.', '*', '=', '<', '>', '+', ':', '!', '%', '^', '&', '|', '~', '[',
            ']', '@', '#', '?' -> i++;
        case ';' -> {
          return skipSpace(text, i + 1, len) == len;
        }
        default -> {
          return false; // ( ) ' " $ / - \ ` { } and non-ASCII: the classifier decides
        }
      }
    }
    return true;
  }

  private static int skipSpace(byte[] text, int i, int len) {
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r' || text[i] == '\f')) {
      i++;
    }
    return i;
  }

  private static boolean isWordByte(byte b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_';
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  private static boolean allDigits(byte[] text, int from, int to) {
    for (int k = from; k < to; k++) {
      if (!isDigit(text[k])) {
        return false;
      }
    }
    return true;
  }

  private static byte[] bytes(String lower) {
    return lower.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** Whether {@code text[i, i + w.length)} (within {@code len}) is the lower-case ASCII word {@code w}, any case. */
  private static boolean word(byte[] text, int i, int len, byte[] w) {
    if (i + w.length > len) {
      return false;
    }
    for (int k = 0; k < w.length; k++) {
      if ((text[i + k] | 0x20) != w[k]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isRiskyWord(byte[] text, int start, int n) {
    switch (n) {
      case 3:
        return word(text, start, start + 3, FOR);
      case 4:
        return word(text, start, start + 4, INTO);
      case 5:
        return word(text, start, start + 5, MERGE);
      case 6:
        return word(text, start, start + 6, INSERT) || word(text, start, start + 6, UPDATE)
            || word(text, start, start + 6, DELETE);
      default:
        return false;
    }
  }
}
