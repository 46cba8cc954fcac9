package herd.block;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The volumes {@link LocalNbdMain} serves from one store ({@code exports.json} beside the objects):
 * a volume keeps its id across restarts, so its objects are found again. Until the cluster state
 * holds volumes, this small file does.
 */
record ExportTable(@JsonProperty("volumes") List<Volume> volumes) {
    static final String FILE_NAME = "exports.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    record Volume(@JsonProperty("name") String name, @JsonProperty("volumeId") int volumeId,
            @JsonProperty("sizeBytes") long sizeBytes) {}

    static ExportTable load(Path directory) throws IOException {
        Path file = directory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return new ExportTable(List.of());
        }
        try {
            return JSON.readValue(file.toFile(), ExportTable.class);
        } catch (IOException e) {
            throw new IOException(file + " cannot be read (" + e.getMessage() + "); restore it from a backup", e);
        }
    }

    /**
     * The table with every requested export: known names keep their id and may grow, new names get
     * the next id. Shrinking is refused because it would drop the data past the new end.
     */
    ExportTable with(List<LocalNbdOptions.ExportSpec> exports) throws LocalNbdOptions.UsageException {
        List<Volume> updated = new ArrayList<>(volumes);
        int nextId = volumes.stream().mapToInt(Volume::volumeId).max().orElse(0) + 1;
        for (LocalNbdOptions.ExportSpec export : exports) {
            Volume known = find(export.name());
            if (known == null) {
                updated.add(new Volume(export.name(), nextId++, export.sizeBytes()));
            } else if (export.sizeBytes() < known.sizeBytes()) {
                throw new LocalNbdOptions.UsageException("export " + export.name() + " has " + known.sizeBytes()
                        + " bytes; shrinking it to " + export.sizeBytes() + " would drop data (give the old size)");
            } else {
                updated.set(updated.indexOf(known), new Volume(known.name(), known.volumeId(), export.sizeBytes()));
            }
        }
        return new ExportTable(List.copyOf(updated));
    }

    Volume find(String name) {
        return volumes.stream().filter(volume -> volume.name().equals(name)).findFirst().orElse(null);
    }

    /** Written to a temporary file, forced, then renamed over the old one. */
    void save(Path directory) throws IOException {
        Path file = directory.resolve(FILE_NAME);
        Path temporary = directory.resolve(FILE_NAME + ".tmp");
        Files.write(temporary, JSON.writeValueAsBytes(this));
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
