// What the admin console may ask of the whole proxy beyond its sessions: a graceful shutdown and a config reload.
package io.pgbalancer.admin;

import io.pgbalancer.reload.ConfigReloader;

public interface ProxyControl {
    /** Stop accepting, let transactions finish, close (returns when done). */
    void shutdown();

    /** Reload the configuration file now; blocks while it loads, validates and applies. */
    ConfigReloader.Outcome reload(String trigger);
}
