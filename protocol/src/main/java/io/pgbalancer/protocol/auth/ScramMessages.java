// purpose: strict, allocation-bounded parsing helpers for SCRAM attribute=value messages (RFC 5802 §7)
package io.pgbalancer.protocol.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Everything here treats its input as hostile: sizes are capped before any work, every failure is a
 * {@link MalformedAuthMessageException}, and error messages never echo the input itself.
 */
final class ScramMessages {
    /** Far above any legitimate SCRAM message (PostgreSQL's own are < 200 bytes). */
    static final int MAX_MESSAGE_BYTES = 2048;

    private ScramMessages() {
    }

    static String decodeUtf8(byte[] message, String what) throws MalformedAuthMessageException {
        if (message == null || message.length == 0) {
            throw new MalformedAuthMessageException(what + " is empty");
        }
        if (message.length > MAX_MESSAGE_BYTES) {
            throw new MalformedAuthMessageException(what + " exceeds " + MAX_MESSAGE_BYTES + " bytes");
        }
        // A fresh decoder per call: CharsetDecoder is stateful and not thread-safe.
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        String text;
        try {
            text = decoder.decode(ByteBuffer.wrap(message)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedAuthMessageException(what + " is not valid UTF-8");
        }
        // RFC 5802 forbids NUL anywhere; PostgreSQL would also truncate at it.
        if (text.indexOf('\0') >= 0) {
            throw new MalformedAuthMessageException(what + " contains a NUL character");
        }
        return text;
    }

    /**
     * Splits {@code message} into exactly the attributes {@code names}, in that order, and returns their
     * values. Extensions, repeats, reordering and trailing data are all rejected: PostgreSQL never sends
     * or needs them, and accepting them only widens the attack surface.
     */
    static String[] attributes(String message, String what, char... names) throws MalformedAuthMessageException {
        String[] fields = message.split(",", -1);
        String[] values = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            if (i >= fields.length) {
                throw new MalformedAuthMessageException(what + " is missing attribute '" + names[i] + "'");
            }
            values[i] = attribute(fields[i], names[i], names, what);
        }
        if (fields.length > names.length) {
            throw new MalformedAuthMessageException(what + " has unexpected trailing attributes");
        }
        return values;
    }

    private static String attribute(String field, char expected, char[] known, String what)
            throws MalformedAuthMessageException {
        if (field.length() < 2 || field.charAt(1) != '=') {
            throw new MalformedAuthMessageException(what + ": expected attribute '" + expected + "='");
        }
        char actual = field.charAt(0);
        if (actual == expected) {
            return field.substring(2);
        }
        if (actual == 'm') {
            throw new MalformedAuthMessageException(what + ": mandatory extensions (m=) are not supported");
        }
        if (new String(known).indexOf(actual) >= 0) {
            throw new MalformedAuthMessageException(
                    what + ": attribute '" + actual + "' is repeated or out of order, expected '" + expected + "'");
        }
        throw new MalformedAuthMessageException(what + ": unexpected attribute, expected '" + expected + "'");
    }

    /** RFC 5802: {@code printable = %x21-2B / %x2D-7E}, i.e. visible ASCII except ','. */
    static void requireNonce(String nonce, String what) throws MalformedAuthMessageException {
        if (nonce.isEmpty()) {
            throw new MalformedAuthMessageException(what + " is empty");
        }
        if (!isPrintableNonce(nonce)) {
            throw new MalformedAuthMessageException(what + " contains non-printable characters");
        }
    }

    static boolean isPrintableNonce(String nonce) {
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return !nonce.isEmpty();
    }

    /**
     * Decodes base64 and insists on the canonical padded form, so that exactly one spelling of each value
     * is accepted (no missing padding, no non-zero trailing bits).
     */
    static byte[] base64(String value, String what) throws MalformedAuthMessageException {
        if (value.isEmpty()) {
            throw new MalformedAuthMessageException(what + " is empty");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new MalformedAuthMessageException(what + " is not valid base64");
        }
        if (!Base64.getEncoder().encodeToString(decoded).equals(value)) {
            throw new MalformedAuthMessageException(what + " is not canonical base64");
        }
        return decoded;
    }

    /**
     * Parses a positive decimal without ever overflowing: the digit count is bounded before
     * {@link Integer#parseInt} so values like {@code 99999999999} or {@code -1} are rejected, not wrapped.
     */
    static int iterations(String value, int max, String what) throws MalformedAuthMessageException {
        if (value.isEmpty() || value.length() > 9) {
            throw new MalformedAuthMessageException(what + " is out of range (1.." + max + ")");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                throw new MalformedAuthMessageException(what + " is not a decimal number");
            }
        }
        int n = Integer.parseInt(value); // at most 9 digits: cannot overflow
        if (n < 1 || n > max) {
            throw new MalformedAuthMessageException(what + " is out of range (1.." + max + ")");
        }
        return n;
    }

    /** Makes peer-supplied text (server error strings, mechanism names) safe to put in a log line. */
    static String sanitize(String text, int maxChars) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), maxChars));
        for (int i = 0; i < text.length() && out.length() < maxChars; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        if (text.length() > maxChars) {
            out.append("...");
        }
        return out.toString();
    }
}
