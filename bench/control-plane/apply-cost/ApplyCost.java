import herd.core.codec.Codec;
import herd.core.command.Command;
import herd.server.state.ClusterStateApplication;
import java.lang.management.ManagementFactory;

/**
 * What one put costs the thread that encodes, decodes and applies it, in bytes allocated and in
 * microseconds: the work every server does for every put on its one apply thread. Run by the
 * script next to it; prints the last of several rounds (the first ones let the JIT compile).
 */
public class ApplyCost {
    private static final com.sun.management.ThreadMXBean THREAD =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int PUTS = 200_000;
    private static final int KEYS = 1_000; // overwritten in turn, so the state stays small

    public static void main(String[] args) {
        byte[] value = new byte[Integer.parseInt(args.length > 0 ? args[0] : "256")];
        ClusterStateApplication application = new ClusterStateApplication();
        byte[][] encodedPuts = new byte[KEYS][];
        Command.KvPut[] puts = new Command.KvPut[KEYS];
        for (int i = 0; i < KEYS; i++) {
            puts[i] = new Command.KvPut(String.format("%08d", i), value, null);
            encodedPuts[i] = Codec.encode(puts[i]);
        }
        long index = 0;
        String line = "";
        for (int round = 0; round < 5; round++) {
            Cost encode = measure(() -> { for (int i = 0; i < PUTS; i++) Codec.encode(puts[i % KEYS]); });
            Cost decode = measure(() -> { for (int i = 0; i < PUTS; i++) Codec.decodeCommand(encodedPuts[i % KEYS]); });
            long first = index;
            Cost apply = measure(() -> {
                for (int i = 0; i < PUTS; i++) Codec.decodeOutcome(application.apply(first + i + 1, encodedPuts[i % KEYS]));
            });
            index += PUTS;
            line = String.format("value %d bytes: encode %s | decode %s | apply (decode, apply, encode the outcome) + decode the outcome %s",
                value.length, encode, decode, apply);
        }
        System.out.println(line);
    }

    record Cost(double bytes, double micros) {
        @Override
        public String toString() {
            return String.format("%.0f B, %.2f us", bytes, micros);
        }
    }

    private static Cost measure(Runnable puts) {
        long bytes = THREAD.getCurrentThreadAllocatedBytes();
        long nanos = System.nanoTime();
        puts.run();
        return new Cost((THREAD.getCurrentThreadAllocatedBytes() - bytes) / (double) PUTS,
            (System.nanoTime() - nanos) / 1e3 / PUTS);
    }
}
