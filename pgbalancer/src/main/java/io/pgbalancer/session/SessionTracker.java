// The live client sessions, for graceful shutdown (drain) and counting.
package io.pgbalancer.session;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

public final class SessionTracker {
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();

    void add(ClientSession s) {
        sessions.add(s);
    }

    void remove(ClientSession s) {
        sessions.remove(s);
    }

    public int count() {
        return sessions.size();
    }

    /** Sessions with a backend are mid-transaction (or pinned); they close when it is done. Others close now. */
    public void drainAll() {
        sessions.forEach(ClientSession::drain);
    }

    public long busyCount() {
        return sessions.stream().filter(ClientSession::holdsBackend).count();
    }

    /**
     * Every live session as seen right now. Sessions belong to other event loops: this reads their fields without
     * synchronisation, so a session changing state at this moment may show either state.
     */
    public java.util.List<ClientSnapshot> snapshot() {
        return sessions.stream()
                .map(s -> new ClientSnapshot(s.user, s.database, String.valueOf(s.client.remoteAddress()),
                        s.holdsBackend(), s.pinned, s.busy()))
                .toList();
    }

    public void closeAll(String reason) {
        sessions.forEach(s -> s.terminate(reason));
    }
}
