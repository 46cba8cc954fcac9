package herd.lincheck;

import java.util.*;
import org.junit.jupiter.api.Test;

class ScratchTest {
    static List<Operation> cutAt(List<Operation> relevant, long time) {
        List<Operation> cut = new ArrayList<>();
        for (Operation op : relevant) {
            if (op.invokedAtNanos() > time) continue;
            if (op.isIndeterminate() || op.completedAtNanos() <= time) cut.add(op);
            else if (!(op.action() instanceof Action.Get || op.outcome() instanceof Outcome.Mismatch))
                cut.add(new Operation(op.clientId(), op.key(), op.action(), Outcome.indeterminate("x"), op.invokedAtNanos(), op.completedAtNanos()));
        }
        return cut;
    }
    @Test
    void scratch() throws Exception {
        History h = HistoryFormat.parse(java.nio.file.Files.readString(java.nio.file.Path.of("/tmp/key0.hist")));
        List<Operation> ops = h.operations();
        long[] times = ops.stream().mapToLong(Operation::completedAtNanos).distinct().sorted().toArray();
        for (long t : times) {
            List<Operation> cut = cutAt(ops, t);
            var r = RegisterSearch.search(cut, 1_000_000);
            if (r.verdict() != RegisterSearch.Verdict.LINEARIZABLE) {
                var plain = RegisterSearch.searchWithoutReductions(cut, 1_000_000);
                System.out.println("SCRATCH cut " + t + " size " + cut.size() + " -> " + r + " plain " + plain);
                java.nio.file.Files.writeString(java.nio.file.Path.of("/tmp/cut.hist"), HistoryFormat.format(new History(cut)));
                break;
            }
        }
        System.out.println("SCRATCH done");
    }
}
