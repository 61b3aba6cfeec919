// Which statement each of a client's open portals runs, for the few portals whose statement changes settings.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.sql.Classification;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * An Execute names a portal, not a statement; SettingsLedger needs the statement's SET/RESET/SAVEPOINT effects when
 * the Execute completes. Only portals with effects are remembered, so the usual case stores nothing.
 */
final class Portals {
    private Classification unnamed;
    private Map<String, Classification> named;

    /** A Bind of portal {@code [from, afterNul)} to a statement with {@code effects} (null: none). */
    void bind(ByteBuf buf, int from, int afterNul, Classification effects) {
        if (afterNul - from <= 1) {
            unnamed = effects;
        } else if (effects != null) {
            if (named == null) {
                named = new HashMap<>();
            }
            named.put(name(buf, from, afterNul), effects);
        } else if (named != null) {
            named.remove(name(buf, from, afterNul));
        }
    }

    /** The effects of the portal an Execute at {@code [from, end)} runs (its portal name comes first). */
    Classification effectsOf(ByteBuf buf, int from, int end) {
        if (buf.getByte(from) == 0) {
            return unnamed;
        }
        if (named == null) {
            return null;
        }
        int nul = buf.indexOf(from, end, (byte) 0);
        return nul < 0 ? null : named.get(name(buf, from, nul + 1));
    }

    void close(ByteBuf buf, int from, int afterNul) {
        if (afterNul - from <= 1) {
            unnamed = null;
        } else if (named != null) {
            named.remove(name(buf, from, afterNul));
        }
    }

    private static String name(ByteBuf buf, int from, int afterNul) {
        return buf.toString(from, afterNul - 1 - from, StandardCharsets.UTF_8);
    }
}
