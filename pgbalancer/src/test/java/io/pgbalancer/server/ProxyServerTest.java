// purpose: the client channels' shared read allocator keeps Netty's per-channel default of 16 reads per wake-up
package io.pgbalancer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

class ProxyServerTest {
    /** A shared allocator built with {@code new} reads once per wake-up unless told otherwise; a channel's own reads 16. */
    @Test
    void theSharedReadAllocatorReadsAsManyTimesPerWakeUpAsAChannelsOwn() {
        NioSocketChannel channel = new NioSocketChannel();
        int channelDefault = channel.config().getMaxMessagesPerRead();
        channel.unsafe().closeForcibly();
        assertEquals(16, channelDefault, "Netty's per-channel default changed");
        assertEquals(channelDefault, ProxyServer.RECV_ALLOCATOR.maxMessagesPerRead());
    }
}
