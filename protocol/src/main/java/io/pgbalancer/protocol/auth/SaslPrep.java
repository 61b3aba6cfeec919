// purpose: RFC 4013 SASLprep for passwords (the maintained com.ongres implementation), with PostgreSQL's fall-back to raw
package io.pgbalancer.protocol.auth;

import com.ongres.saslprep.SASLprep;
import com.ongres.stringprep.Profile;

/**
 * PostgreSQL (src/common/saslprep.c) SASLpreps the password on both the verifier-building and the login side, and
 * silently uses the raw password whenever SASLprep fails. pgbalancer must hash the same bytes as the server, so it
 * mirrors that: pure ASCII passes through untouched (PostgreSQL's fast path); otherwise the RFC 4013 profile of
 * stringprep with the RFC 3454 (Unicode 3.2) tables, unassigned code points allowed as in a query (PostgreSQL does
 * not reject them), and the raw string on any failure (prohibited output, bidi rules, an empty result).
 */
final class SaslPrep {
    private static final Profile PROFILE = new SASLprep();

    private SaslPrep() {
    }

    static String prepare(String password) {
        if (isAscii(password)) {
            return password;
        }
        try {
            String prepared = PROFILE.prepareQuery(password);
            return prepared.isEmpty() ? password : prepared;
        } catch (RuntimeException e) {
            // IllegalArgumentException for prohibited output or bidi; the library also fails (index out of bounds)
            // on input that maps to nothing, which PostgreSQL treats as a failure too
            return password;
        }
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}
