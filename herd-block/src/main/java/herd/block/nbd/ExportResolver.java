package herd.block.nbd;

import java.util.List;

/** Maps export names to devices for the NBD server; called for every connection. */
public interface ExportResolver {

    ExportResolution resolve(String exportName);

    /** The names a client may list (NBD_OPT_LIST). */
    List<String> exportNames();
}
