package herd.blockcore.volume;

import java.util.List;
import java.util.Objects;

/** What a {@link VolumeCatalog} operation did: a new catalog, or a refusal that changed nothing. */
public sealed interface CatalogResult {

    /**
     * The operation applied.
     *
     * @param catalog  the catalog after it
     * @param affected the entries it created or changed, as they are now (for a snapshot: the
     *                 snapshot, then the working volume under its new id)
     */
    record Changed(VolumeCatalog catalog, List<Volume> affected) implements CatalogResult {
        public Changed {
            Objects.requireNonNull(catalog);
            affected = List.copyOf(affected);
        }

        /** The first affected entry: the one the operation was about (not for a release that released nothing). */
        public Volume volume() {
            return affected.getFirst();
        }
    }

    /** The operation was refused; {@code message} says what is wrong and how to fix it. */
    record Refused(RefusalCode code, String message) implements CatalogResult {
        public Refused {
            Objects.requireNonNull(code);
            Objects.requireNonNull(message);
        }
    }

    /** The new catalog; for code that has already validated its request (tests, replays). */
    default VolumeCatalog orElseThrow() {
        return switch (this) {
            case Changed changed -> changed.catalog();
            case Refused refused -> throw new IllegalStateException(refused.code() + ": " + refused.message());
        };
    }
}
