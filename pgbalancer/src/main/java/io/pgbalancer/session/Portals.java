// Which statement each of a client's open portals runs, for the few portals whose statement changes settings.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.sql.Classification;
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
        if (MessageNames.isUnnamed(from, afterNul)) {
            unnamed = effects;
        } else if (effects != null) {
            if (named == null) {
                named = new HashMap<>();
            }
            named.put(MessageNames.read(buf, from, afterNul), effects);
        } else if (named != null) {
            named.remove(MessageNames.read(buf, from, afterNul));
        }
    }

    /** The effects of the portal the Execute at {@code at} runs. */
    Classification effectsOf(ByteBuf buf, int at, int end) {
        int portalEnd = MessageNames.executePortalEnd(buf, at, end); // an Execute without its name is a violation
        if (MessageNames.isUnnamed(at + 5, portalEnd)) {
            return unnamed;
        }
        return named == null ? null : named.get(MessageNames.read(buf, at + 5, portalEnd));
    }

    void close(ByteBuf buf, int from, int afterNul) {
        if (MessageNames.isUnnamed(from, afterNul)) {
            unnamed = null;
        } else if (named != null) {
            named.remove(MessageNames.read(buf, from, afterNul));
        }
    }
}
