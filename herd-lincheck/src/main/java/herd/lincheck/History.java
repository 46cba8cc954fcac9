package herd.lincheck;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** The operations of a test run, in any order. Immutable. */
public record History(List<Operation> operations) {

    public History {
        Objects.requireNonNull(operations, "operations");
        operations = List.copyOf(operations);
    }

    public static History of(Operation... operations) {
        return new History(List.of(operations));
    }

    /** Operations grouped by key, keys in sorted order so that reports are stable. */
    public Map<String, List<Operation>> byKey() {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation operation : operations) {
            byKey.computeIfAbsent(operation.key(), key -> new ArrayList<>()).add(operation);
        }
        return byKey;
    }

    public int size() {
        return operations.size();
    }
}
