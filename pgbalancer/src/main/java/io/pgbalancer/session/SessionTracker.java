// The live client sessions, for graceful shutdown (drain) and counting.
package io.pgbalancer.session;

import java.util.Map;
import java.util.function.Consumer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

public final class SessionTracker {
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final Map<Object, Console> consoles = new ConcurrentHashMap<>();

    /** An admin console session: counted and listed with the others, closed with them. */
    private record Console(String user, String address, Consumer<String> terminate) {
    }

    /** An admin console session opened ({@code key} identifies it until {@link #consoleClosed}). */
    public void consoleOpened(Object key, String user, String address, Consumer<String> terminate) {
        consoles.put(key, new Console(user, address, terminate));
    }

    public void consoleClosed(Object key) {
        consoles.remove(key);
    }

    void add(ClientSession s) {
        sessions.add(s);
    }

    void remove(ClientSession s) {
        sessions.remove(s);
    }

    /** Connected clients, admin console sessions included (limits.max_client_connections counts them). */
    public int count() {
        return sessions.size() + consoles.size();
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
        java.util.List<ClientSnapshot> all = new java.util.ArrayList<>();
        sessions.forEach(s -> all.add(new ClientSnapshot(s.user, s.database, String.valueOf(s.client.remoteAddress()),
                s.holdsBackend(), s.pinned, s.busy())));
        consoles.values().forEach(c -> all.add(new ClientSnapshot(c.user(), "pgbalancer", c.address(), false, false,
                false)));
        return all;
    }

    public void closeAll(String reason) {
        sessions.forEach(s -> s.terminate(reason));
        consoles.values().forEach(c -> c.terminate().accept(reason));
    }
}
