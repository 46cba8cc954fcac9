package herd.block.nbd;

import java.util.List;

/** Maps export names to devices for the NBD server; called for every connection. */
public interface ExportResolver {

    /** The device a client connecting for I/O gets (NBD_OPT_GO, NBD_OPT_EXPORT_NAME). */
    ExportResolution resolve(String exportName);

    /**
     * What the export is, for options that only ask about it (NBD_OPT_INFO, the meta context
     * options): a resolver whose {@link #resolve} takes the export (a volume gets attached to the
     * node) answers here without doing so. No I/O goes through the device returned.
     */
    default ExportResolution inspect(String exportName) {
        return resolve(exportName);
    }

    /** The names a client may list (NBD_OPT_LIST). */
    List<String> exportNames();
}
