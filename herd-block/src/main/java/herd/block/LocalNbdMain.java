package herd.block;

import herd.block.nbd.BlockDevice;
import herd.block.nbd.MapExportResolver;
import herd.block.nbd.NbdServer;
import herd.block.store.ObjectStore;
import herd.block.volume.VolumeDevice;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves single-copy volumes from one object store over NBD, without a cluster (a node of a cluster
 * serves its volumes itself), for trying the NBD server on its own and for tests:
 * {@code LocalNbdMain --dir DIR --capacity BYTES --export NAME:SIZE[:ro] ... --listen HOST:PORT}.
 */
public final class LocalNbdMain {
    private static final Logger log = LoggerFactory.getLogger(LocalNbdMain.class);

    private LocalNbdMain() {}

    public static void main(String[] args) throws Exception {
        LocalNbdOptions options;
        try {
            options = LocalNbdOptions.parse(args);
        } catch (LocalNbdOptions.UsageException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        ObjectStore store;
        try {
            store = ObjectStore.open(options.directory(), options.capacityBytes());
        } catch (IOException e) {
            System.err.println("cannot open the object store in " + options.directory() + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        ExportTable table;
        try {
            table = ExportTable.load(options.directory()).with(options.exports());
        } catch (LocalNbdOptions.UsageException e) {
            System.err.println(e.getMessage());
            store.close();
            System.exit(2);
            return;
        }
        table.save(options.directory());
        NbdServer server = new NbdServer(options.listen(), new MapExportResolver(devices(options, table, store)));
        try {
            server.start();
        } catch (IOException e) {
            System.err.println(e.getMessage());
            store.close();
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            try {
                store.close();
            } catch (IOException e) {
                log.warn("closing the object store: {}", e.toString());
            }
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }

    static Map<String, BlockDevice> devices(LocalNbdOptions options, ExportTable table, ObjectStore store) {
        Map<String, BlockDevice> devices = new LinkedHashMap<>();
        for (LocalNbdOptions.ExportSpec export : options.exports()) {
            ExportTable.Volume volume = table.find(export.name());
            devices.put(export.name(), new VolumeDevice(export.name(), export.sizeBytes(), volume.volumeId(), store,
                    export.readOnly()));
            log.info("exporting volume {} (id {}, {} bytes{})", export.name(), volume.volumeId(), export.sizeBytes(),
                    export.readOnly() ? ", read-only" : "");
        }
        return devices;
    }
}
