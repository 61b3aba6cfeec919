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
import io.netty.channel.uring.IoUringAdaptiveBufferRingAllocator;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
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

    /**
     * The io_uring buffer group every socket receives into: a ring of buffers per event loop that the kernel takes
     * one from only when bytes arrive. Without it, Netty's io_uring keeps a receive posted with a buffer of its own
     * for every idle connection (BENCHMARKS.md, "io_uring receive buffers").
     */
    private static final short RECEIVE_BUFFER_GROUP = 1;
    private static final short RECEIVE_RING_BUFFERS = 512;
    private static final int RECEIVE_RING_BATCH = 64;

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

    /** The transport as the startup line names it, e.g. "io_uring transport, receive buffer ring". */
    public static String description() {
        return name() + " transport" + (receiveBufferRing() ? ", receive buffer ring" : "");
    }

    public static EventLoopGroup group(int threads, String name) {
        var factory = new io.netty.util.concurrent.DefaultThreadFactory(name, true);
        IoHandlerFactory handlers = switch (kind()) {
            case IO_URING -> IoUringIoHandler.newFactory(ioUringConfig());
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, factory, handlers);
    }

    /** Socket options for every client and backend connection beyond the ones set where they are opened. */
    @SuppressWarnings("unchecked")
    public static void configure(java.util.function.BiConsumer<io.netty.channel.ChannelOption<Object>, Object> set) {
        if (receiveBufferRing()) {
            set.accept((io.netty.channel.ChannelOption<Object>) (Object) IoUringChannelOption.IO_URING_BUFFER_GROUP_ID,
                    RECEIVE_BUFFER_GROUP);
        }
    }

    /**
     * Whether io_uring sockets receive from a buffer ring: io_uring is the transport, the kernel can (5.19 and
     * later) and {@code -Dpgbalancer.io_uring.buffer_ring=false} does not turn it off (for comparisons).
     */
    static boolean receiveBufferRing() {
        return kind() == Kind.IO_URING && IoUring.isRegisterBufferRingSupported()
                && !"false".equals(System.getProperty("pgbalancer.io_uring.buffer_ring"));
    }

    private static IoUringIoHandlerConfig ioUringConfig() {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig();
        if (receiveBufferRing()) {
            config.setBufferRingConfig(IoUringBufferRingConfig.builder().bufferGroupId(RECEIVE_BUFFER_GROUP)
                    .bufferRingSize(RECEIVE_RING_BUFFERS).batchSize(RECEIVE_RING_BATCH)
                    .allocator(new IoUringAdaptiveBufferRingAllocator()).build());
        }
        return config;
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
