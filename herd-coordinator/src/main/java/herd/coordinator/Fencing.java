package herd.coordinator;

import herd.scheduler.Scheduler;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import java.util.ArrayList;
import java.util.List;

/** Whether fencing protects this cluster, and with which devices. */
public final class Fencing {
    private Fencing() {}

    /**
     * Fencing is in use when it is enabled (stonith-enabled, true unless set) and at least one fence
     * device is configured. Otherwise safety comes from leases alone: a lost node's resources move only
     * after its lease has provably expired.
     */
    public static boolean inUse(Configuration config) {
        return Scheduler.isTrue(config.property("stonith-enabled", "true")) && !devices(config).isEmpty();
    }

    /** The fence devices in configuration order: each is a level of its own, tried in turn. */
    public static List<FenceRequest.Device> devices(Configuration config) {
        List<FenceRequest.Device> devices = new ArrayList<>();
        for (Resource resource : config.resources()) {
            if (resource instanceof Primitive primitive && primitive.isFencingDevice()
                && !"Stopped".equalsIgnoreCase(primitive.meta().getOrDefault("target-role", ""))) {
                devices.add(new FenceRequest.Device(primitive.id(), primitive.agent(), primitive.params()));
            }
        }
        return devices;
    }

    public static FenceRequest request(Configuration config, String target, String reason) {
        return new FenceRequest(target, reason, devices(config).stream().map(List::of).toList());
    }
}
