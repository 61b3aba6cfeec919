// purpose: an allocator that remembers every buffer it made, so a fuzz input can prove it released all of them
package io.pgbalancer.fuzz;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Unpooled, so a buffer's reference count is all there is to check: any buffer (or retained slice, which keeps its
 * parent's count up) still above zero when the input is done was leaked. Buffers are also wrapped for Netty's leak
 * detector (Netty's own unpooled heap buffers are not), so the paranoid detector sees them too. Give it to an EmbeddedChannel with
 * {@code channel.config().setAllocator(alloc)}: everything the handlers allocate through {@code ctx.alloc()} is counted.
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> made = new ArrayList<>();
    private final Map<ByteBuf, Throwable> stacks = new IdentityHashMap<>();
    private volatile boolean recordStacks;

    public TrackingAllocator() {
        super(false);
    }

    /** Remember where each buffer was made (slow; the harness turns it on when it reruns a single input). */
    void recordStacks(boolean on) {
        recordStacks = on;
    }

    private synchronized <T extends ByteBuf> T remember(T b) {
        made.add(b);
        if (recordStacks) {
            stacks.put(b, new Throwable("allocated here"));
        }
        return b;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(remember(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity)));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(remember(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity)));
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        return toLeakAwareBuffer(remember(new CompositeByteBuf(this, false, maxNumComponents)));
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        return toLeakAwareBuffer(remember(new CompositeByteBuf(this, true, maxNumComponents)));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** How many buffers were made since the last {@link #clear()}. */
    public synchronized int count() {
        return made.size();
    }

    /** A description of the buffers still referenced, or null when every one was released. */
    public synchronized String unreleased() {
        StringBuilder s = null;
        int n = 0;
        for (ByteBuf b : made) {
            if (b.refCnt() != 0) {
                n++;
                if (s == null) {
                    s = new StringBuilder();
                }
                if (n <= 5) {
                    s.append("\n  refCnt ").append(b.refCnt()).append(", ").append(b.writerIndex()).append(" bytes written: ")
                            .append(ByteBufUtil.hexDump(b, 0, Math.min(b.writerIndex(), 64)));
                    Throwable where = stacks.get(b);
                    if (where != null) {
                        StringWriter w = new StringWriter();
                        where.printStackTrace(new PrintWriter(w));
                        s.append("\n  ").append(w.toString().replace("\n", "\n  "));
                    }
                }
            }
        }
        return s == null ? null : n + " of " + made.size() + " buffers not released (leaked):" + s
                + (stacks.isEmpty() ? "\n  (rerun with -Dfuzz.case or -Dfuzz.last to see where they were allocated)" : "");
    }

    /** Forgets the buffers made so far (all released). */
    public synchronized void clear() {
        made.clear();
        stacks.clear();
    }
}
