package herd.core.storage;

import java.util.List;
import java.util.Map;

/**
 * The storage part of a state image.
 *
 * @param unreachableByReporter each storage node's last report of the storage nodes whose data path it cannot reach
 * @param cutOff                up storage nodes kept out of the epoch because the majority cannot reach them
 * @param stalls                each storage node's own word that its store does not answer, and why
 * @param outForStall           the node kept out of the epoch on that word, if any
 */
public record StorageImage(int defaultCopies, List<StorageRegistration> registrations, List<StorageEpoch> epochs,
                           Map<String, Long> recoveredEpochs, Map<String, List<String>> unreachableByReporter,
                           List<String> cutOff, Map<String, String> stalls, List<String> outForStall) {
    public StorageImage {
        registrations = registrations == null ? List.of() : List.copyOf(registrations);
        epochs = epochs == null ? List.of() : List.copyOf(epochs);
        recoveredEpochs = recoveredEpochs == null ? Map.of() : Map.copyOf(recoveredEpochs);
        unreachableByReporter = unreachableByReporter == null ? Map.of() : Map.copyOf(unreachableByReporter);
        cutOff = cutOff == null ? List.of() : List.copyOf(cutOff);
        stalls = stalls == null ? Map.of() : Map.copyOf(stalls);
        outForStall = outForStall == null ? List.of() : List.copyOf(outForStall);
    }

    /** What an image written before storage membership existed stands for. */
    public static StorageImage empty() {
        return new StorageImage(1, List.of(), List.of(), Map.of(), Map.of(), List.of(), Map.of(), List.of());
    }
}
