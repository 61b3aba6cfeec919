// Chooses the socket transport: io_uring or epoll (Netty's native ones) when they load, NIO otherwise.
package io.pgbalancer.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * One transport for the whole process, picked once: the system property {@code pgbalancer.transport}
 * ({@code auto}, {@code io_uring}, {@code epoll}, {@code nio}; {@code pgbalancer.nio=true} is the old switch) or
 * auto: epoll when it loads, else NIO. io_uring is chosen only when asked for (see BENCHMARKS.md) and falls back
 * to epoll when the kernel refuses it.
 */
public final class Transport {
    private enum Kind { IO_URING, EPOLL, NIO }

    private static final Kind KIND = choose(System.getProperty("pgbalancer.transport",
            Boolean.getBoolean("pgbalancer.nio") ? "nio" : "auto"));

    private Transport() {
    }

    static Kind choose(String wanted) {
        return switch (wanted) {
            case "io_uring" -> IoUring.isAvailable() ? Kind.IO_URING : Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
            case "nio" -> Kind.NIO;
            case "epoll", "auto" -> Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
            default -> throw new IllegalArgumentException("pgbalancer.transport: expected auto, io_uring, epoll or"
                    + " nio, got " + wanted);
        };
    }

    public static String name() {
        return switch (KIND) {
            case IO_URING -> "io_uring";
            case EPOLL -> "epoll";
            case NIO -> "nio";
        };
    }

    public static EventLoopGroup group(int threads, String name) {
        var factory = new io.netty.util.concurrent.DefaultThreadFactory(name, true);
        IoHandlerFactory handlers = switch (KIND) {
            case IO_URING -> IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, factory, handlers);
    }

    /** Socket options for every client and backend connection beyond the ones set where they are opened. */
    public static void configure(java.util.function.BiConsumer<io.netty.channel.ChannelOption<Object>, Object> set) {
        // Netty 4.2's epoll is edge-triggered only; nothing to set for now
    }

    public static Class<? extends ServerSocketChannel> serverChannel() {
        return switch (KIND) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public static Class<? extends SocketChannel> channel() {
        return switch (KIND) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }
}
