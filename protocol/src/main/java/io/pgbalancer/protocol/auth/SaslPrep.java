// purpose: approximate RFC 4013 SASLprep for passwords, with PostgreSQL's fall-back-to-raw behaviour
package io.pgbalancer.protocol.auth;

import java.text.Normalizer;

/**
 * PostgreSQL (src/common/saslprep.c) SASLpreps the password on both the verifier-building and the login
 * side, and silently uses the raw password whenever SASLprep fails. We must hash the same bytes as the
 * server, so we mirror that: pure ASCII passes through untouched (PostgreSQL's fast path), otherwise we
 * apply the RFC 4013 mapping, NFKC, the prohibited-output and bidi checks, and fall back to the raw string
 * on any failure.
 *
 * <p>Approximation: stringprep is pinned to Unicode 3.2 while {@link Character} and {@link Normalizer}
 * use the JDK's newer Unicode tables, and prohibited characters are detected by general category rather
 * than the exact RFC 3454 tables. Passwords containing code points assigned after Unicode 3.2 or other
 * exotic characters may therefore hash differently from PostgreSQL; ordinary non-ASCII passwords
 * (accented letters, CJK, compatibility forms) match.
 */
final class SaslPrep {
    private SaslPrep() {
    }

    static String prepare(String password) {
        if (isAscii(password)) {
            return password;
        }
        StringBuilder mapped = new StringBuilder(password.length());
        for (int i = 0; i < password.length(); ) {
            int cp = password.codePointAt(i);
            i += Character.charCount(cp);
            // Same precedence as PostgreSQL: the space table is consulted before the map-to-nothing table.
            if (isNonAsciiSpace(cp)) {
                mapped.append(' ');
            } else if (!mapsToNothing(cp)) {
                mapped.appendCodePoint(cp);
            }
        }
        String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
        if (normalized.isEmpty() || hasProhibited(normalized) || !bidiOk(normalized)) {
            return password;
        }
        return normalized;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7F) {
                return false;
            }
        }
        return true;
    }

    /** RFC 3454 table C.1.2. */
    private static boolean isNonAsciiSpace(int cp) {
        return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B)
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** RFC 3454 table B.1. */
    private static boolean mapsToNothing(int cp) {
        return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D)
                || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || (cp >= 0xFE00 && cp <= 0xFE0F)
                || cp == 0xFEFF;
    }

    /** Tables C.1.2-C.9 and A.1, approximated by general category plus the few symbol-class entries. */
    private static boolean hasProhibited(String s) {
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isNonAsciiSpace(cp) || cp == 0xFFFC || cp == 0xFFFD || (cp >= 0x2FF0 && cp <= 0x2FFB)
                    || cp == 0x0340 || cp == 0x0341) {
                return true;
            }
            switch (Character.getType(cp)) {
                case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE,
                        Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR:
                    return true;
                default:
                    break;
            }
        }
        return false;
    }

    /** RFC 3454 §6: RandAL text must not mix with L text and must start and end with RandAL. */
    private static boolean bidiOk(String s) {
        boolean hasRandAL = false;
        boolean hasL = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            hasRandAL |= isRandAL(cp);
            hasL |= Character.getDirectionality(cp) == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
        }
        if (!hasRandAL) {
            return true;
        }
        return !hasL && isRandAL(s.codePointAt(0)) && isRandAL(s.codePointBefore(s.length()));
    }

    private static boolean isRandAL(int cp) {
        byte d = Character.getDirectionality(cp);
        return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    }
}
