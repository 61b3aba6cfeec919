// PAUSE [db] and RESUME [db]: hold new transactions at checkout; PAUSE answers once the running ones finished.
package io.pgbalancer.admin;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.pgbalancer.session.ClientSnapshot;
import io.pgbalancer.session.PauseGate;
import io.pgbalancer.session.SessionServices;
import java.util.concurrent.TimeUnit;

final class PauseCommand {
    private static final long CHECK_MILLIS = 20;

    private PauseCommand() {
    }

    static AdminReply pause(SessionServices services, EventLoop loop, String database) {
        services.pauses().pause(database);
        Promise<AdminReply> done = loop.newPromise();
        checkDrained(services, loop, database, done);
        return new AdminReply.Later(done);
    }

    static AdminReply resume(SessionServices services, String database) {
        services.pauses().resume(database);
        return new AdminReply.Done("RESUME");
    }

    /**
     * Completes {@code done} once no client of {@code database} is inside a transaction (checked every 20 ms);
     * pinned clients idle on their backend do not count.
     */
    private static void checkDrained(SessionServices services, EventLoop loop, String database,
                                     Promise<AdminReply> done) {
        if (!services.pauses().holds(database)) {
            done.trySuccess(new AdminReply.Failed("57014", "PAUSE of " + database + " was lifted (RESUME) before"
                    + " its transactions finished"));
            return;
        }
        for (ClientSnapshot c : services.sessions().snapshot()) {
            if (c.busy() && (database.equals(PauseGate.ALL) || database.equals(c.database()))) {
                loop.schedule(() -> checkDrained(services, loop, database, done), CHECK_MILLIS,
                        TimeUnit.MILLISECONDS);
                return;
            }
        }
        done.trySuccess(new AdminReply.Done("PAUSE"));
    }
}
