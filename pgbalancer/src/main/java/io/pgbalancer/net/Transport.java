// Chooses Netty's native epoll transport when available and NIO otherwise.
package io.pgbalancer.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

public final class Transport {
    private static final boolean EPOLL = Epoll.isAvailable() && !Boolean.getBoolean("pgbalancer.nio");

    private Transport() {
    }

    public static String name() {
        return EPOLL ? "epoll" : "nio";
    }

    public static EventLoopGroup group(int threads, String name) {
        var factory = new io.netty.util.concurrent.DefaultThreadFactory(name, true);
        return EPOLL ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
    }

    /**
     * Socket options for every client and backend connection. Level-triggered epoll lets a read stop at the first
     * short read instead of reading again until EAGAIN (edge-triggered): one syscall less per message burst.
     */
    public static void configure(java.util.function.BiConsumer<io.netty.channel.ChannelOption<Object>, Object> set) {
        if (EPOLL) {
            @SuppressWarnings("unchecked")
            io.netty.channel.ChannelOption<Object> mode =
                    (io.netty.channel.ChannelOption<Object>) (Object) io.netty.channel.epoll.EpollChannelOption.EPOLL_MODE;
            set.accept(mode, io.netty.channel.epoll.EpollMode.LEVEL_TRIGGERED);
        }
    }

    public static Class<? extends ServerSocketChannel> serverChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public static Class<? extends SocketChannel> channel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
