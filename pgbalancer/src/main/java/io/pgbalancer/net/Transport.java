// Chooses the socket transport: io_uring or epoll (Netty's native ones) when they load, NIO otherwise.
package io.pgbalancer.net;

import io.netty.channel.EventLoopGroup;
import io.pgbalancer.config.SocketTransport;
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
 * One transport for the whole process, picked once by {@link #select} from {@code listen.transport} (when that is
 * {@code auto}, the system property {@code pgbalancer.transport} may name one; {@code pgbalancer.nio=true} is the old
 * switch). auto is epoll where it loads, else NIO; io_uring falls back to epoll when the kernel refuses it.
 */
public final class Transport {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Transport.class);

    private enum Kind { IO_URING, EPOLL, NIO }

    private static Kind kind;

    private Transport() {
    }

    /**
     * Chooses the transport for this process; every proxy in it must want the same one (a change of
     * listen.transport needs a restart).
     */
    public static synchronized void select(SocketTransport wanted) {
        Kind chosen = choose(wanted == SocketTransport.AUTO ? fromProperties() : wanted);
        if (kind == null) {
            kind = chosen;
        } else if (kind != chosen) {
            throw new IllegalStateException("listen.transport " + wanted.yamlName() + ": this process already runs "
                    + name() + " sockets (restart to change the transport)");
        }
    }

    private static synchronized Kind kind() {
        if (kind == null) {
            select(SocketTransport.AUTO);
        }
        return kind;
    }

    private static SocketTransport fromProperties() {
        String property = System.getProperty("pgbalancer.transport", Boolean.getBoolean("pgbalancer.nio") ? "nio"
                : "auto");
        for (SocketTransport t : SocketTransport.values()) {
            if (t.yamlName().equals(property)) {
                return t;
            }
        }
        throw new IllegalArgumentException("-Dpgbalancer.transport: expected auto, io_uring, epoll or nio, got "
                + property);
    }

    static Kind choose(SocketTransport wanted) {
        return switch (wanted) {
            case IO_URING -> {
                if (IoUring.isAvailable()) {
                    yield Kind.IO_URING;
                }
                log.warn("listen.transport io_uring: not available here ({}); using {}",
                        IoUring.unavailabilityCause(), Epoll.isAvailable() ? "epoll" : "nio");
                yield Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
            }
            case NIO -> Kind.NIO;
            case EPOLL, AUTO -> Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
        };
    }

    public static String name() {
        return switch (kind()) {
            case IO_URING -> "io_uring";
            case EPOLL -> "epoll";
            case NIO -> "nio";
        };
    }

    public static EventLoopGroup group(int threads, String name) {
        var factory = new io.netty.util.concurrent.DefaultThreadFactory(name, true);
        IoHandlerFactory handlers = switch (kind()) {
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
        return switch (kind()) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public static Class<? extends SocketChannel> channel() {
        return switch (kind()) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }
}
