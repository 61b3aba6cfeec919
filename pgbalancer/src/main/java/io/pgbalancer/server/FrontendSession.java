// What the client handler drives after authentication: a pooled ClientSession or the AdminSession console.
package io.pgbalancer.server;

import io.netty.buffer.ByteBuf;

public interface FrontendSession {
    /** After authentication succeeded: greet the client (or start obtaining what the greeting needs). */
    void start();

    /** Complete client messages; takes ownership of {@code frames}. */
    void onClientFrames(ByteBuf frames);

    void onClientWritabilityChanged();

    /** The client went away (Terminate, EOF, error). */
    void onClientClosed();

    /** Sends a FATAL error and closes the client. */
    void terminate(String sqlState, String message);
}
