// Hands each client a cancel key of the proxy's own and finds the session a CancelRequest is meant for.
package io.pgbalancer.cancel;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

public final class CancelRegistry {
    /** What a cancel key leads to: a session that forwards the cancel to the backend running its query, if any. */
    public interface Target {
        void cancelRunningQuery();
    }

    /** Also the map's key (a record: equal by value), so a session holds no boxed copy of it (memory per client). */
    public record Key(int processId, int secret) {
    }

    private final ConcurrentHashMap<Key, Target> targets = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    public Key register(Target target) {
        while (true) {
            Key key = new Key(random.nextInt(Integer.MAX_VALUE - 1) + 1, random.nextInt());
            if (targets.putIfAbsent(key, target) == null) {
                return key;
            }
        }
    }

    public void unregister(Key key) {
        targets.remove(key);
    }

    /** Returns false when no live session has this key (a stale or forged cancel: ignored, as the server does). */
    public boolean cancel(int processId, int secret) {
        Target t = targets.get(new Key(processId, secret));
        if (t == null) {
            return false;
        }
        t.cancelRunningQuery();
        return true;
    }
}
