package herd.block.store;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.FileChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the store's file channels deaf to thread interrupts.
 *
 * <p>A {@link FileChannel} closes itself, for every thread using it, when a thread that is in one of
 * its reads or writes, or enters one, has been interrupted. An object's file is shared by every
 * request on the object, so one interrupted thread (a worker stopped at shutdown, a cancelled task)
 * would turn the open object into {@code ClosedChannelException} for all of them. Interruptible I/O
 * also costs every call two monitor sections, to register the thread and to take it off again: in
 * a profile of random 4 KiB writes they were about 2.5 % of the NBD workers' CPU time.
 *
 * <p>The JDK can switch this off per channel ({@code sun.nio.ch.FileChannelImpl.setUninterruptible},
 * which it uses for files of its own). That method is internal: herd's jar exports its package to
 * herd ({@code Add-Exports} in the manifest, read when the JVM starts with {@code -jar}), and the
 * tests' JVMs get {@code --add-exports}. Run any other way, the channels stay interruptible, as they
 * were before, and a line says so when the first object file is opened.
 */
final class UninterruptibleChannels {
    private static final Logger log = LoggerFactory.getLogger(UninterruptibleChannels.class);
    private static final String IMPLEMENTATION = "sun.nio.ch.FileChannelImpl";
    /** {@code setUninterruptible} of the JDK's file channels, or null where this JVM does not let herd call it. */
    private static final MethodHandle SET_UNINTERRUPTIBLE = find();

    private UninterruptibleChannels() {}

    /** The channel, made uninterruptible when this JVM allows it. */
    static FileChannel of(FileChannel channel) {
        if (SET_UNINTERRUPTIBLE != null && SET_UNINTERRUPTIBLE.type().parameterType(0).isInstance(channel)) {
            try {
                SET_UNINTERRUPTIBLE.invoke(channel);
            } catch (Throwable e) {
                throw new IllegalStateException("could not make a file channel uninterruptible", e);
            }
        }
        return channel;
    }

    /** Whether channels are made uninterruptible in this JVM. */
    static boolean available() {
        return SET_UNINTERRUPTIBLE != null;
    }

    private static MethodHandle find() {
        try {
            Class<?> implementation = Class.forName(IMPLEMENTATION);
            return MethodHandles.lookup().findVirtual(implementation, "setUninterruptible",
                MethodType.methodType(void.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.info("object files stay interruptible (an interrupted thread closes the file it uses): this JVM "
                + "does not let herd call {}.setUninterruptible ({}); start herd with `java -jar herd.jar`, or add "
                + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED", IMPLEMENTATION, e.toString());
            return null;
        }
    }
}
