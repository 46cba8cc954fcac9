package herd.server.storage;

import herd.block.nbd.ExportResolution;
import herd.block.nbd.ExportResolver;
import herd.block.volume.ObjectIo;
import herd.block.volume.VolumeDevice;
import herd.core.ErrorCode;
import herd.core.command.Command;
import herd.core.command.Outcome;
import herd.core.command.Query;
import herd.core.command.QueryResult;
import herd.core.volume.InodeEntry;
import herd.core.volume.VolumeRecord;
import herd.server.ClusterAccess;
import herd.server.api.ApiException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's gateway: the NBD server's {@link ExportResolver} over the cluster state. A client
 * names a volume or snapshot; a working volume attached to another node is refused, an unattached
 * one is attached here first (one writer per volume). All connections to a volume share one
 * {@link CopyOnWriteIo}, so a snapshot taken through this node switches them all at once.
 */
public final class VolumeGateway implements ExportResolver {
    private static final Logger log = LoggerFactory.getLogger(VolumeGateway.class);

    /** A working volume this node serves: its object I/O and the device new connections get. */
    private record Served(CopyOnWriteIo io, VolumeDevice device) {}

    private final String nodeName;
    private final ClusterAccess cluster;
    private final ObjectIo store;
    private final Map<String, Served> servedByName = new ConcurrentHashMap<>();

    public VolumeGateway(String nodeName, ClusterAccess cluster, ObjectIo store) {
        this.nodeName = nodeName;
        this.cluster = cluster;
        this.store = store;
    }

    public String nodeName() {
        return nodeName;
    }

    @Override
    public ExportResolution resolve(String exportName) {
        return resolve(exportName, true);
    }

    /** As {@link #resolve}, without attaching the volume here: an NBD_OPT_INFO from nbdinfo takes nothing. */
    @Override
    public ExportResolution inspect(String exportName) {
        return resolve(exportName, false);
    }

    private ExportResolution resolve(String exportName, boolean forIo) {
        try {
            Optional<QueryResult.VolumeDetail> detail = detail(exportName);
            if (detail.isEmpty()) {
                return new ExportResolution.Unknown();
            }
            VolumeRecord volume = detail.get().row().volume();
            if (volume.isSnapshot()) {
                return new ExportResolution.Found(unsharedDevice(VolumeView.of(detail.get()), true));
            }
            if (volume.attachedNode() != null && !volume.attachedNode().equals(nodeName)) {
                return new ExportResolution.Refused("volume '" + exportName + "' is attached on node "
                    + volume.attachedNode() + ": connect to that node's NBD server");
            }
            return forIo ? resolveWorking(exportName, volume)
                : new ExportResolution.Found(unsharedDevice(VolumeView.of(detail.get()), false));
        } catch (ApiException e) {
            return new ExportResolution.Refused("the cluster state cannot be read right now: " + e.getMessage());
        }
    }

    /** A device of its own over the view: a snapshot's reader, or an answer about a volume. */
    private VolumeDevice unsharedDevice(VolumeView view, boolean readOnly) {
        CopyOnWriteIo io = new CopyOnWriteIo(store, this::recordOwnership, view, this::stillInCatalog);
        return new VolumeDevice(view.name(), view.sizeBytes(), view.volumeId(), io, readOnly);
    }

    /** Whether the view's entry is still in the catalog under its name (a snapshot deleted and taken again has a new id). */
    private boolean stillInCatalog(VolumeView view) {
        try {
            return detail(view.name()).map(found -> found.row().volume().id() == view.volumeId()).orElse(false);
        } catch (ApiException e) {
            return false; // cannot tell: an error is better than zeros that may be wrong
        }
    }

    private synchronized ExportResolution resolveWorking(String name, VolumeRecord volume) throws ApiException {
        if (volume.attachedNode() == null) {
            Outcome attached = cluster.submit(new Command.AttachVolume(name, nodeName));
            if (attached instanceof Outcome.Rejected rejected) {
                return new ExportResolution.Refused(rejected.rejection().message());
            }
            log.info("volume {} attached to this node for an NBD client", name);
        }
        Optional<QueryResult.VolumeDetail> fresh = detail(name);
        if (fresh.isEmpty()) {
            return new ExportResolution.Unknown();
        }
        VolumeView view = VolumeView.of(fresh.get());
        Served served = servedByName.get(name);
        if (served == null) {
            CopyOnWriteIo io = new CopyOnWriteIo(store, this::recordOwnership, view);
            served = new Served(io, new VolumeDevice(name, view.sizeBytes(), view.volumeId(), io));
        } else if (served.io().view().volumeId() != view.volumeId() || served.device().sizeBytes() != view.sizeBytes()) {
            // changed without this gateway (another node's API): switch the open connections too
            try {
                served.io().whilePaused(() -> null, () -> view);
            } catch (Exception e) {
                throw new IllegalStateException("switching volume " + name + " to its current state failed", e);
            }
            served = new Served(served.io(), new VolumeDevice(name, view.sizeBytes(), view.volumeId(), served.io()));
        }
        servedByName.put(name, served);
        return new ExportResolution.Found(served.device());
    }

    @Override
    public List<String> exportNames() {
        try {
            QueryResult.VolumeList list = (QueryResult.VolumeList) cluster.query(new Query.Volumes(), false);
            return list.volumes().stream().map(row -> row.volume().name()).toList();
        } catch (ApiException e) {
            return List.of();
        }
    }

    /**
     * Runs {@code change} (a command about volume {@code name}, such as a snapshot or resize) while
     * no I/O of the volume is in flight here, and serves the volume's new state afterwards. When this
     * node does not serve the volume, just runs it.
     */
    public <T> T changeServed(String name, Callable<T> change) throws Exception {
        Served served = servedByName.get(name);
        if (served == null) {
            return change.call();
        }
        T result = served.io().whilePaused(change, () -> detail(name).map(VolumeView::of).orElse(served.io().view()));
        VolumeView view = served.io().view();
        servedByName.put(name, new Served(served.io(), new VolumeDevice(name, view.sizeBytes(), view.volumeId(), served.io())));
        return result;
    }

    /**
     * Stops serving volume {@code name} here (connected clients get I/O errors from now on) and
     * detaches it in the cluster state, so it can be deleted, rolled back or served elsewhere.
     */
    public Outcome detach(String name) throws Exception {
        Served served = servedByName.remove(name);
        Callable<Outcome> submit = () -> cluster.submit(new Command.DetachVolume(name));
        if (served == null) {
            return submit.call();
        }
        Outcome outcome = served.io().whilePaused(submit, () -> served.io().view().closed());
        log.info("volume {} detached from this node: {}", name, outcome);
        return outcome;
    }

    private Optional<QueryResult.VolumeDetail> detail(String name) throws ApiException {
        QueryResult answer = cluster.query(new Query.VolumeInfo(name), true);
        return switch (answer) {
            case QueryResult.VolumeDetail detail -> Optional.of(detail);
            case QueryResult.Refused refused when refused.rejection().code() == ErrorCode.NOT_FOUND -> Optional.empty();
            case QueryResult.Refused refused -> throw ApiException.of(refused.rejection());
            default -> throw new IllegalStateException("a volume query answered " + answer);
        };
    }

    private Optional<String> recordOwnership(int volumeId, int index) {
        try {
            Outcome outcome = cluster.submit(new Command.SetInodeEntries(volumeId, List.of(new InodeEntry(index, volumeId))));
            if (outcome instanceof Outcome.Rejected rejected) {
                return Optional.of(rejected.rejection().message());
            }
            return Optional.empty();
        } catch (ApiException e) {
            return Optional.of(e.getMessage());
        }
    }
}
