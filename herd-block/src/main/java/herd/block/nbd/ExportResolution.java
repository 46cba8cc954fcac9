package herd.block.nbd;

/** What an export name stands for on this node. */
public sealed interface ExportResolution {

    /** Served here by this device. */
    record Found(BlockDevice device) implements ExportResolution {}

    /** No export of that name exists. */
    record Unknown() implements ExportResolution {}

    /** The export exists but this node will not serve it; the reason goes to the client. */
    record Refused(String reason) implements ExportResolution {}
}
