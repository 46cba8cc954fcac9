package herd.sim;

import herd.sim.Scenario.AgentBehaviour;
import herd.sim.Scenario.Fault;
import herd.sim.Scenario.Template;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Draws a scenario from a seed: the same seed always gives the same scenario. */
public final class ScenarioGenerator {
    /** Faults begin once the cluster has had time to start everything once. */
    public static final long FAULTS_FROM_MILLIS = 6_000;
    public static final long FAULT_WINDOW_MIN_MILLIS = 15_000;
    public static final long FAULT_WINDOW_MAX_MILLIS = 30_000;
    public static final long FAULT_GAP_MIN_MILLIS = 400;
    public static final long FAULT_GAP_MAX_MILLIS = 3_500;
    /** Long enough for elections, leases, fencing retries, reboots (at most {@link #DOWN_MAX_MILLIS}) and recovery. */
    public static final long QUIET_MILLIS = 45_000;
    public static final long DOWN_MIN_MILLIS = 1_000;
    public static final long DOWN_MAX_MILLIS = 9_000;
    public static final long PARTITION_MIN_MILLIS = 300;
    public static final long PARTITION_MAX_MILLIS = 7_000;
    public static final int MIN_NODES = 3;
    public static final int MAX_NODES = 5;

    /** Operation timeouts are short so that hanging agents time out within a run. */
    private static final String OPS = " op start timeout=4s op stop timeout=4s op monitor interval=2s timeout=3s";
    private static final String AGENT = " ocf:heartbeat:Dummy";
    public static final String FENCE_DEVICE = "fence-lab";
    private static final String FENCE = "primitive " + FENCE_DEVICE + " stonith:herd-script params command=/bin/true"
        + " op monitor interval=5s timeout=3s\nproperty stonith-enabled=true\n";
    private static final String NO_FENCE = "property stonith-enabled=false\n";

    private ScenarioGenerator() {}

    public static Scenario generate(long seed) {
        Random random = new Random(scramble(seed));
        Template template = Template.values()[random.nextInt(Template.values().length)];
        boolean fencing = random.nextBoolean();
        boolean sticky = random.nextBoolean();
        int nodeCount = MIN_NODES + random.nextInt(MAX_NODES - MIN_NODES + 1);
        List<String> nodes = new ArrayList<>();
        for (int i = 1; i <= nodeCount; i++) {
            nodes.add("n" + i);
        }
        String crm = configuration(template, fencing, sticky);
        AgentBehaviour agents = new AgentBehaviour(pick(random, 0, 0.05, 0.2), pick(random, 0, 0, 0.05),
            pick(random, 0, 0.03), pick(random, 0, 0.03), 20, pick(random, 300, 1_500));
        long faultWindowMillis = FAULT_WINDOW_MIN_MILLIS + random.nextLong(FAULT_WINDOW_MAX_MILLIS - FAULT_WINDOW_MIN_MILLIS + 1);
        long quietFrom = FAULTS_FROM_MILLIS + faultWindowMillis;
        List<Fault> faults = faults(random, nodes, resourcesOf(template), fencing, quietFrom);
        return new Scenario(seed, template, crm, fencing, nodes, agents, faults, quietFrom, quietFrom + QUIET_MILLIS);
    }

    /**
     * Consecutive seeds make nearly equal first draws from {@link Random}; SplitMix64's finaliser spreads
     * them, so seeds 1, 2, 3... give unrelated scenarios.
     */
    static long scramble(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The primitives whose processes may die, by template. */
    public static List<String> resourcesOf(Template template) {
        return switch (template) {
            case SINGLE_PRIMITIVE -> List.of("db");
            case GROUP_OF_THREE -> List.of("ip", "fs", "app");
            case ANONYMOUS_CLONE -> List.of("web");
            case UNIQUE_CLONE -> List.of("worker");
            case COLOCATED_PAIR -> List.of("vip", "proxy");
        };
    }

    static String configuration(Template template, boolean fencing, boolean sticky) {
        StringBuilder crm = new StringBuilder();
        for (String resource : resourcesOf(template)) {
            crm.append("primitive ").append(resource).append(AGENT).append(OPS).append('\n');
        }
        switch (template) {
            case SINGLE_PRIMITIVE -> { }
            case GROUP_OF_THREE -> crm.append("group svc ip fs app\n");
            case ANONYMOUS_CLONE -> crm.append("clone web-clone web meta notify=true\n");
            case UNIQUE_CLONE -> crm.append("clone worker-clone worker meta globally-unique=true notify=true\n");
            case COLOCATED_PAIR -> crm.append("colocation proxy-with-vip inf: proxy vip\n")
                .append("order vip-then-proxy Mandatory: vip proxy\n");
        }
        crm.append(fencing ? FENCE : NO_FENCE);
        if (sticky) {
            crm.append("rsc_defaults resource-stickiness=100\n");
        }
        return crm.toString();
    }

    private static List<Fault> faults(Random random, List<String> nodes, List<String> resources, boolean fencing,
                                      long quietFrom) {
        List<Fault> faults = new ArrayList<>();
        long at = FAULTS_FROM_MILLIS;
        while (true) {
            at += FAULT_GAP_MIN_MILLIS + random.nextLong(FAULT_GAP_MAX_MILLIS - FAULT_GAP_MIN_MILLIS + 1);
            if (at >= quietFrom) {
                return faults;
            }
            faults.add(fault(random, at, nodes, resources, fencing));
        }
    }

    private static Fault fault(Random random, long at, List<String> nodes, List<String> resources, boolean fencing) {
        int roll = random.nextInt(100);
        long down = DOWN_MIN_MILLIS + random.nextLong(DOWN_MAX_MILLIS - DOWN_MIN_MILLIS + 1);
        if (roll < 20) {
            return new Fault.Crash(at, nodes.get(random.nextInt(nodes.size())), down);
        }
        if (roll < 32) {
            return new Fault.CrashLeader(at, down);
        }
        if (roll < 60) {
            long duration = PARTITION_MIN_MILLIS + random.nextLong(PARTITION_MAX_MILLIS - PARTITION_MIN_MILLIS + 1);
            return new Fault.Partition(at, isolated(random, nodes), duration);
        }
        if (roll < 70 && fencing) {
            return new Fault.FenceDeviceOutage(at, down);
        }
        return new Fault.ResourceDies(at, resources.get(random.nextInt(resources.size())));
    }

    /** One node alone, or (less often) a random minority or majority of the cluster. */
    private static List<String> isolated(Random random, List<String> nodes) {
        if (random.nextInt(3) > 0) {
            return List.of(nodes.get(random.nextInt(nodes.size())));
        }
        List<String> side = new ArrayList<>();
        for (String node : nodes) {
            if (random.nextBoolean()) {
                side.add(node);
            }
        }
        if (side.isEmpty() || side.size() == nodes.size()) {
            return List.of(nodes.get(random.nextInt(nodes.size())));
        }
        return side;
    }

    private static double pick(Random random, double... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static long pick(Random random, long... choices) {
        return choices[random.nextInt(choices.length)];
    }
}
