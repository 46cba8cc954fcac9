package herd.core.storage;

import java.util.List;
import java.util.Map;

/** The storage part of a state image. */
public record StorageImage(int defaultCopies, List<StorageRegistration> registrations, List<StorageEpoch> epochs,
                           Map<String, Long> recoveredEpochs) {
    public StorageImage {
        registrations = registrations == null ? List.of() : List.copyOf(registrations);
        epochs = epochs == null ? List.of() : List.copyOf(epochs);
        recoveredEpochs = recoveredEpochs == null ? Map.of() : Map.copyOf(recoveredEpochs);
    }

    /** What an image written before storage membership existed stands for. */
    public static StorageImage empty() {
        return new StorageImage(1, List.of(), List.of(), Map.of());
    }
}
