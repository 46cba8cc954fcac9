package herd.coordinator;

import herd.scheduler.Scheduler;
import herd.scheduler.model.Configuration;
import herd.scheduler.model.FencingLevel;
import herd.scheduler.model.Primitive;
import herd.scheduler.model.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    /** The fence devices in configuration order (those stopped with target-role=Stopped left out). */
    public static List<FenceRequest.Device> devices(Configuration config) {
        List<FenceRequest.Device> devices = new ArrayList<>();
        for (Resource resource : config.resources()) {
            if (resource instanceof Primitive primitive && primitive.isFencingDevice() && !stopped(primitive)) {
                devices.add(device(primitive));
            }
        }
        return devices;
    }

    /**
     * Fences {@code target} through the fencing topology's levels for it (its own, or else those for
     * every node), by index; a level's devices run in the order given and must all succeed. A device
     * stopped with target-role=Stopped (or no longer a stonith primitive) is left out of its level, and
     * a level left empty is dropped. Without topology levels for the target, every device is a level
     * of its own, in configuration order.
     */
    public static FenceRequest request(Configuration config, String target, String reason) {
        List<FencingLevel> topology = config.fencingLevelsFor(target);
        if (topology.isEmpty()) {
            return new FenceRequest(target, reason, devices(config).stream().map(List::of).toList());
        }
        List<List<FenceRequest.Device>> levels = new ArrayList<>();
        for (FencingLevel level : topology) {
            List<FenceRequest.Device> devices = new ArrayList<>();
            for (String id : level.devices()) {
                Optional<Resource> found = config.find(id);
                if (found.isPresent() && found.get() instanceof Primitive primitive && primitive.isFencingDevice()
                    && !stopped(primitive)) {
                    devices.add(device(primitive));
                }
            }
            if (!devices.isEmpty()) levels.add(devices);
        }
        return new FenceRequest(target, reason, levels);
    }

    private static boolean stopped(Primitive primitive) {
        return "Stopped".equalsIgnoreCase(primitive.meta().getOrDefault("target-role", ""));
    }

    private static FenceRequest.Device device(Primitive primitive) {
        return new FenceRequest.Device(primitive.id(), primitive.agent(), primitive.params());
    }
}
