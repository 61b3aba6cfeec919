// purpose: how far behind the primary a replica may be and still take reads (YAML routing.max_lag)
package io.pgbalancer.config;

import java.time.Duration;

/** {@code bytes} and {@code time} are null when unbounded; otherwise positive. */
public record MaxLag(Long bytes, Duration time) {
    public static final MaxLag NONE = new MaxLag(null, null);

    public boolean isBounded() {
        return bytes != null || time != null;
    }
}
