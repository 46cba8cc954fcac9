package herd.block.nbd;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A fixed set of exports. */
public final class MapExportResolver implements ExportResolver {
    private final Map<String, BlockDevice> devices;

    public MapExportResolver(Map<String, ? extends BlockDevice> devices) {
        this.devices = new TreeMap<>(devices);
    }

    @Override
    public ExportResolution resolve(String exportName) {
        BlockDevice device = devices.get(exportName);
        return device == null ? new ExportResolution.Unknown() : new ExportResolution.Found(device);
    }

    @Override
    public List<String> exportNames() {
        return List.copyOf(devices.keySet());
    }
}
